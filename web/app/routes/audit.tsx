import { useLoaderData } from 'react-router';
import type { LoaderArgs } from '../context';
import { useT } from '../i18n';
import { rolesFor } from '../permissions';
import { requireRole } from '../lib/guards.server';

/** The audit log, newest first: owners, admins and auditors (read-only). */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/audit'));
  const events = await context.services.recentAuditEvents(session);
  return { events: events.map((e) => ({ ...e, at: e.at.toISOString() })) };
}

export default function Audit() {
  const t = useT();
  const { events } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>{t('audit.title')}</h1>
      <p>{t('audit.intro')}</p>
      <table className="list">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('audit.at')}</th>
            <th scope="col">{t('audit.action')}</th>
            <th scope="col">{t('audit.actor')}</th>
            <th scope="col">{t('sessions.ip')}</th>
            <th scope="col">{t('audit.details')}</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.seq} data-testid="audit-event">
              <td>{e.seq}</td>
              <td>
                {new Date(e.at).toLocaleString(t.lang === 'de' ? 'de-DE' : 'en-GB', {
                  timeZone: 'Europe/Berlin',
                })}
              </td>
              <td>{e.action}</td>
              <td>{e.actor}</td>
              <td>{e.ip}</td>
              <td>
                <code>{JSON.stringify(e.details)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
