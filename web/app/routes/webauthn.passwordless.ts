import type { ActionArgs, LoaderArgs } from '../context';
import { adoptSession } from '../lib/guards.server';
import { formAction } from '../lib/form.server';
import { cookiesOf, SSO_COOKIE } from '../lib/http.server';

/**
 * Resource route: sign-in with a passkey alone (JSON; issue 21 §4). Public like the login page:
 * the passkey's assertion with user verification is both factors, and its PRF output unlocks the
 * keys (lib/auth/passkey-unlock.ts). Passkeys without PRF answer 409: they are a second factor.
 */
export const action = formAction(async function action({ request, context }: ActionArgs) {
  const body = (await request.json().catch(() => ({}))) as {
    step?: string;
    response?: unknown;
    prf?: unknown;
  };
  if (body.step === 'options') {
    const options = await context.services.passwordlessOptions();
    return options
      ? Response.json(options)
      : Response.json({ ok: false }, { status: 503, headers: { 'Retry-After': '60' } });
  }
  if (body.step === 'verify' && body.response && typeof body.response === 'object') {
    const r = await context.services.passwordlessStep({
      response: body.response as never,
      prf: body.prf,
      // After a single sign-on, when the tenant insists on it (lib/auth/passkey-unlock.ts).
      ssoTicket: cookiesOf(request, context)[SSO_COOKIE],
      ip: context.ip,
      userAgent: context.userAgent,
    });
    if (r.kind === 'throttled')
      return Response.json(
        { ok: false },
        { status: 429, headers: { 'Retry-After': String(r.retryAfterS) } },
      );
    if (r.kind === 'no-unlock') return Response.json({ ok: false, unlock: false }, { status: 409 });
    if (r.kind === 'sso-required') return Response.json({ ok: false, sso: true }, { status: 403 });
    if (r.kind === 'failed') return Response.json({ ok: false }, { status: 401 });
    return Response.json(
      { ok: true },
      { headers: { 'Set-Cookie': adoptSession(context, r.cookie) } },
    );
  }
  return Response.json({ ok: false }, { status: 400 });
});

/** POST only. */
export function loader(_: LoaderArgs) {
  return new Response(null, { status: 405, headers: { Allow: 'POST' } });
}
