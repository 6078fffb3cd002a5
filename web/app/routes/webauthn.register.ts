import type { ActionArgs, LoaderArgs } from '../context';
import { isFresh, reauthPath, requireUser } from '../lib/guards.server';

/** Resource route: registration ceremony of a passkey for the signed-in user (JSON). */
export async function action({ request, context }: ActionArgs) {
  const { session } = await requireUser(request, context);
  // Adding a factor is sensitive: a stale login confirms the password first.
  if (!isFresh(session))
    return Response.json({ reauth: reauthPath('/settings/security') }, { status: 403 });
  const body = (await request.json().catch(() => ({}))) as {
    step?: string;
    response?: unknown;
    name?: unknown;
  };
  if (body.step === 'options')
    return Response.json(await context.services.passkeyRegistrationOptions(session));
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
}

/** POST only; a GET is answered after the same guard, so it tells nobody anything. */
export async function loader({ request, context }: LoaderArgs) {
  await requireUser(request, context);
  return new Response(null, { status: 405, headers: { Allow: 'POST' } });
}
