import { data } from 'react-router';
import type { PortalContext } from '../context';
import type { Role } from '../../../lib/db/schema';
import type { SessionInfo } from '../../../lib/auth/sessions';
import { clearCookie, cookiesOf, seeOther, SESSION_COOKIE, setCookie } from './http.server';

/**
 * Guards at the top of every loader and action. `requireUser` is the only way to the archive and
 * settings: a live session that has passed both factors. The other two admit the half-finished
 * session to the second-factor and enrolment pages only.
 */

export interface Authed {
  session: SessionInfo;
  cookie: string;
}

async function current(request: Request, context: PortalContext): Promise<Authed> {
  const cookie = context.sessionCookie ?? cookiesOf(request, context)[SESSION_COOKIE];
  const r = await context.services.readSession(cookie);
  if (r.status === 'active') return { session: r.session, cookie: r.cookie };
  // Why, when and by which limit: the login page tells the person (issue 25 §3).
  const to =
    r.status === 'expired'
      ? `/login?${new URLSearchParams({
          expired: r.reason === 'idle-timeout' ? 'idle' : 'absolute',
          ...(r.at ? { at: r.at.toISOString() } : {}),
          ...(r.limit ? { limit: String(r.limit) } : {}),
        }).toString()}`
      : '/login';
  throw seeOther(to, ...(cookie ? [clearCookie(context, SESSION_COOKIE)] : []));
}

export async function requireUser(request: Request, context: PortalContext): Promise<Authed> {
  const a = await current(request, context);
  if (!a.session.secondFactor)
    throw seeOther(a.session.enrolled ? '/login/second-factor' : '/setup/second-factor');
  if (a.session.mustSetPassword) throw seeOther('/login/new-password');
  return a;
}

/** Opened with the recovery key, both factors done, the new password still to set. */
export async function requireRecoveredSession(request: Request, context: PortalContext) {
  const a = await current(request, context);
  if (!a.session.secondFactor)
    throw seeOther(a.session.enrolled ? '/login/second-factor' : '/setup/second-factor');
  if (!a.session.mustSetPassword) throw seeOther('/');
  return a;
}

/**
 * Both factors and one of `roles` (docs/permissions.md). Anyone else gets 404, the same answer as
 * for something that does not exist: a member learns nothing about admin pages.
 */
export async function requireRole(
  request: Request,
  context: PortalContext,
  roles: Role[],
): Promise<Authed> {
  const a = await requireUser(request, context);
  if (!roles.includes(a.session.role)) throw data(null, { status: 404 });
  return a;
}

/** How long a login or re-authentication counts as fresh for sensitive actions. */
export const REAUTH_MS = 10 * 60_000;

/**
 * Sensitive actions (2FA changes, key operations, exports, role changes) also need a password
 * entered within the last 10 minutes; otherwise the user confirms it at /reauth first.
 */
export async function requireRecentAuth(
  request: Request,
  context: PortalContext,
  roles?: Role[],
): Promise<Authed> {
  const a = roles
    ? await requireRole(request, context, roles)
    : await requireUser(request, context);
  if (isFresh(a.session)) return a;
  throw seeOther(reauthPath(new URL(request.url).pathname));
}

export const isFresh = (s: SessionInfo) => Date.now() - (s.reauthAt?.getTime() ?? 0) <= REAUTH_MS;
export const reauthPath = (back: string) => `/reauth?to=${encodeURIComponent(back)}`;

/** Password done, second factor pending (and enrolled). */
export async function requirePasswordStep(request: Request, context: PortalContext) {
  const a = await current(request, context);
  if (a.session.secondFactor) throw seeOther('/');
  if (!a.session.enrolled) throw seeOther('/setup/second-factor');
  return a;
}

/** Password done, no second factor enrolled yet. */
export async function requireEnrolment(request: Request, context: PortalContext) {
  const a = await current(request, context);
  if (a.session.secondFactor) throw seeOther('/');
  if (a.session.enrolled) throw seeOther('/login/second-factor');
  return a;
}

/** Both factors, or a first second factor still to enrol (passkey registration serves both). */
export async function requireUserOrEnrolment(request: Request, context: PortalContext) {
  const a = await current(request, context);
  if (a.session.secondFactor && a.session.mustSetPassword) throw seeOther('/login/new-password');
  if (a.session.secondFactor || !a.session.enrolled) return a;
  throw seeOther('/login/second-factor');
}

/** An action replaced the session: this request's loaders use the new one. */
export function adoptSession(context: PortalContext, cookie: string): string {
  context.sessionCookie = cookie;
  return setCookie(context, SESSION_COOKIE, cookie);
}

/** For the login page: a signed-in user goes home instead. */
export async function optionalSession(request: Request, context: PortalContext) {
  const cookie = context.sessionCookie ?? cookiesOf(request, context)[SESSION_COOKIE];
  const r = await context.services.readSession(cookie);
  return r.status === 'active' ? r.session : undefined;
}
