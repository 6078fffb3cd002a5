import type { ActionArgs, LoaderArgs } from '../context';
import { useActionData, useLoaderData } from 'react-router';
import { Alert, Submit } from '../components/Field';
import { useT } from '../i18n';
import { requireUser } from '../lib/guards.server';
import { clearCookie, seeOther, SESSION_COOKIE } from '../lib/http.server';
import { z } from 'zod';
import { parseForm, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/** TOMs §4: every active session listed and individually revocable. */

export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireUser(request, context);
  const sessions = await context.services.listSessions(session);
  return {
    sessions: sessions.map((s) => ({
      ...s,
      createdAt: s.createdAt.toISOString(),
      lastSeenAt: s.lastSeenAt.toISOString(),
    })),
    limits: await context.services.sessionLimits(session),
  };
}

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session } = await requireUser(request, context);
  const { session: ref } = await parseForm(request, z.object({ session: text(128) }));
  const n = await context.services.revokeSessions(session, ref, context.ip);
  if (ref === session.idHash.toString('hex'))
    return seeOther('/login?bye=1', clearCookie(context, SESSION_COOKIE));
  return { revoked: n };
});

export default function Sessions() {
  const t = useT();
  const { sessions, limits } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const when = (iso: string) =>
    new Date(iso).toLocaleString(t.lang === 'de' ? 'de-DE' : 'en-GB', {
      timeZone: 'Europe/Berlin',
    });
  return (
    <>
      <h1>{t('sessions.title')}</h1>
      <FormError />
      <p>{t('sessions.intro', { idle: limits.idleMinutes, hours: limits.absoluteHours })}</p>
      {result && <Alert kind="notice">{t('sessions.revoked', { n: result.revoked })}</Alert>}
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('sessions.device')}</th>
            <th scope="col">{t('sessions.ip')}</th>
            <th scope="col">{t('sessions.created')}</th>
            <th scope="col">{t('sessions.lastSeen')}</th>
            <th scope="col" />
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.ref} data-testid="session">
              <td>
                {s.device}
                {s.current && <strong> ({t('sessions.current')})</strong>}
                {s.passwordOnly && <strong> ({t('sessions.passwordOnly')})</strong>}
              </td>
              <td>{s.ip}</td>
              <td>{when(s.createdAt)}</td>
              <td>{when(s.lastSeenAt)}</td>
              <td>
                <form method="post">
                  <input type="hidden" name="session" value={s.ref} />
                  <Submit>{t('sessions.revoke')}</Submit>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post">
        <input type="hidden" name="session" value="others" />
        <Submit>{t('sessions.revokeOthers')}</Submit>
      </form>
    </>
  );
}
