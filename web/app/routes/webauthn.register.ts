import type { ActionArgs, LoaderArgs } from '../context';
import { isFresh, reauthPath, requireUserOrEnrolment } from '../lib/guards.server';
import { setCookie, SESSION_COOKIE } from '../lib/http.server';
import { formAction } from '../lib/form.server';

/**
 * Resource route: registration ceremony of a passkey (JSON) — a further one for a signed-in user,
 * or the first second factor of a user enrolling (then the answer carries the recovery codes to
 * show once and the upgraded session's cookie). A passkey with the PRF extension is then set up to
 * unlock the keys without a password (steps unlock-options and unlock; lib/auth/passkey-unlock.ts).
 */
export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session, cookie } = await requireUserOrEnrolment(request, context);
  // Adding a factor is sensitive: a stale login confirms the password first.
  if (session.secondFactor && !isFresh(session))
    return Response.json({ reauth: reauthPath('/settings/security') }, { status: 403 });
  const body = (await request.json().catch(() => ({}))) as {
    step?: string;
    response?: unknown;
    name?: unknown;
    credential?: unknown;
    prf?: unknown;
  };
  if (body.step === 'options')
    return Response.json(await context.services.passkeyRegistrationOptions(session));
  // After a registration whose passkey supports PRF: let it unlock the keys without a password.
  if (body.step === 'unlock-options' && typeof body.credential === 'string') {
    const options = await context.services.passkeyUnlockSetupOptions(
      session,
      body.credential.slice(0, 1400),
    );
    return options ? Response.json(options) : Response.json({ ok: false }, { status: 404 });
  }
  if (body.step === 'unlock' && body.response && typeof body.response === 'object') {
    const ok = await context.services.setUpPasskeyUnlock(session, cookie, {
      response: body.response as never,
      prf: body.prf,
      ip: context.ip,
      userAgent: context.userAgent,
    });
    return Response.json({ ok }, { status: ok ? 200 : 400 });
  }
  if (
    body.step === 'verify' &&
    body.response &&
    typeof body.response === 'object' &&
    !session.secondFactor
  ) {
    const r = await context.services.enrolPasskey(session, cookie, {
      response: body.response as never,
      name: typeof body.name === 'string' ? body.name : 'Passkey',
      ip: context.ip,
      userAgent: context.userAgent,
    });
    if (r.kind === 'failed') return Response.json({ ok: false }, { status: 400 });
    return Response.json(
      { ok: true, recoveryCodes: r.recoveryCodes },
      {
        headers: {
          'Set-Cookie': setCookie(context, SESSION_COOKIE, r.cookie),
          'Cache-Control': 'no-store',
        },
      },
    );
  }
  if (body.step === 'verify' && body.response && typeof body.response === 'object') {
    const ok = await context.services.registerPasskey(session, {
      response: body.response as never,
      name: typeof body.name === 'string' ? body.name : 'Passkey',
      ip: context.ip,
      userAgent: context.userAgent,
    });
    return Response.json({ ok }, { status: ok ? 200 : 400 });
  }
  return Response.json({ ok: false }, { status: 400 });
});

/** POST only; a GET is answered after the same guard, so it tells nobody anything. */
export async function loader({ request, context }: LoaderArgs) {
  await requireUserOrEnrolment(request, context);
  return new Response(null, { status: 405, headers: { Allow: 'POST' } });
}
