import { parse, serialize, type SerializeOptions } from 'cookie';
import { data, redirect, type HeadersFunction } from 'react-router';
import type { PortalContext } from '../context';
import { isLang, LANG_COOKIE, type Lang } from '../i18n';

export const SESSION_COOKIE = 'mailrepo_session';
export const INVITE_COOKIE = 'mailrepo_invite';
/** What a single sign-on proved, for the unlock page (10 minutes, used once). */
export const SSO_COOKIE = 'mailrepo_sso';

/**
 * On HTTPS the session and invitation cookies carry the `__Host-` / `__Secure-` prefix (issue 17
 * §4): a browser then accepts them only from a secure origin, for this exact host (`__Host-`: no
 * Domain, Path=/), so a sibling subdomain or a plain-HTTP response cannot plant or shadow them.
 * The unprefixed names are read only in plain-HTTP development.
 */
const PREFIXED: Record<string, string> = {
  [SESSION_COOKIE]: '__Host-',
  [INVITE_COOKIE]: '__Secure-',
  [SSO_COOKIE]: '__Host-',
};
const wireName = (context: Pick<PortalContext, 'secureCookies'>, name: string) =>
  context.secureCookies && PREFIXED[name] ? `${PREFIXED[name]}${name}` : name;

export function cookiesOf(
  request: Request,
  context: Pick<PortalContext, 'secureCookies'>,
): Record<string, string | undefined> {
  const all = parse(request.headers.get('Cookie') ?? '');
  const out: Record<string, string | undefined> = { ...all };
  for (const name of Object.keys(PREFIXED)) out[name] = all[wireName(context, name)];
  return out;
}

/** httpOnly, SameSite=Lax, Secure unless plain-HTTP development; session cookies by default. */
export function setCookie(
  context: PortalContext,
  name: string,
  value: string,
  opts: SerializeOptions = {},
): string {
  return serialize(wireName(context, name), value, {
    httpOnly: true,
    sameSite: 'lax',
    secure: context.secureCookies,
    path: '/',
    ...opts,
  });
}

export const clearCookie = (context: PortalContext, name: string, path = '/') =>
  setCookie(context, name, '', { maxAge: 0, path });

export function langOf(request: Request): Lang {
  const c = parse(request.headers.get('Cookie') ?? '')[LANG_COOKIE];
  if (isLang(c)) return c;
  return /^en\b/i.test(request.headers.get('Accept-Language') ?? '') ? 'en' : 'de';
}

/** 303 after a POST, with cookies to set. */
export function seeOther(to: string, ...cookies: string[]): Response {
  const headers = new Headers();
  for (const c of cookies) headers.append('Set-Cookie', c);
  return redirect(to, { status: 303, headers });
}

export { safePath } from './paths';

/**
 * A route's `headers` export: an action's own headers (Retry-After, Cache-Control) reach the
 * document response; React Router passes only Set-Cookie on by itself.
 */
export const actionHeaders: HeadersFunction = ({ actionHeaders, loaderHeaders }) => {
  const out = new Headers(loaderHeaders);
  actionHeaders.forEach((v, k) => k !== 'set-cookie' && out.set(k, v));
  return out;
};

/**
 * 429 with Retry-After, for the brute-force limits of the login steps; the page says until when
 * (components/Throttled.tsx), from the server's clock.
 */
export const tooManyAttempts = (seconds: number) => {
  const now = new Date();
  return data(
    {
      error: 'throttled' as const,
      seconds,
      now: now.toISOString(),
      until: new Date(now.getTime() + seconds * 1000).toISOString(),
    },
    { status: 429, headers: { 'Retry-After': String(seconds) } },
  );
};
