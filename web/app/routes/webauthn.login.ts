import type { ActionArgs, LoaderArgs } from '../context';
import { adoptSession, requirePasswordStep } from '../lib/guards.server';
import { formAction } from '../lib/form.server';

/** Resource route: the second login step with a passkey (JSON). */
export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session, cookie } = await requirePasswordStep(request, context);
  const body = (await request.json().catch(() => ({}))) as { step?: string; response?: unknown };
  if (body.step === 'options') {
    const options = await context.services.passkeyLoginOptions(session);
    return options ? Response.json(options) : Response.json({ ok: false }, { status: 404 });
  }
  if (body.step === 'verify' && body.response && typeof body.response === 'object') {
    const r = await context.services.passkeyLoginStep(session, cookie, {
      response: body.response as never,
      ip: context.ip,
      userAgent: context.userAgent,
    });
    if (r.kind === 'throttled')
      return Response.json(
        { ok: false },
        { status: 429, headers: { 'Retry-After': String(r.retryAfterS) } },
      );
    if (r.kind === 'failed') return Response.json({ ok: false }, { status: 401 });
    return Response.json(
      { ok: true },
      { headers: { 'Set-Cookie': adoptSession(context, r.cookie) } },
    );
  }
  return Response.json({ ok: false }, { status: 400 });
});

/** POST only; a GET is answered after the same guard, so it tells nobody anything. */
export async function loader({ request, context }: LoaderArgs) {
  await requirePasswordStep(request, context);
  return new Response(null, { status: 405, headers: { Allow: 'POST' } });
}
