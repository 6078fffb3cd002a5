import { data, useLoaderData } from 'react-router';
import type { LoaderArgs } from '../context';
import { Alert } from '../components/Field';
import { useT, type MessageKey } from '../i18n';
import { dateTime } from '../lib/format';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/**
 * Every workflow of the tenant — mails being archived, index maintenance, integrity checks — with
 * status, retry attempts and failure reasons; owners and admins get a link into the Temporal UI.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/jobs'));
  const backlog = await context.services.indexBacklog(session);
  try {
    return data(
      { jobs: await context.services.listJobs(session), unavailable: false, backlog },
      { headers: { 'Cache-Control': 'no-store' } },
    );
  } catch {
    return data({ jobs: [], unavailable: true, backlog }, { status: 503 });
  }
}

const TYPES: Record<string, MessageKey> = {
  archiveMail: 'jobs.type.archiveMail',
  archiveBatch: 'jobs.type.archiveBatch',
  maintainSearchIndex: 'jobs.type.maintainSearchIndex',
  integrityCheck: 'jobs.type.integrityCheck',
  exportMailbox: 'jobs.type.exportMailbox',
  retentionRun: 'jobs.type.retentionRun',
  rotateKeys: 'jobs.type.rotateKeys',
  importMail: 'jobs.type.importMail',
  renewEvidence: 'jobs.type.renewEvidence',
};

export default function Jobs() {
  const t = useT();
  const { jobs, unavailable, backlog } = useLoaderData<typeof loader>();
  return (
    <div className="wide">
      <h1>{t('jobs.title')}</h1>
      <p>{t('jobs.intro')}</p>
      {backlog.queued + backlog.extracting > 0 && (
        <p data-testid="index-backlog">
          {t('jobs.indexBacklog', { n: backlog.queued, documents: backlog.extracting })}
        </p>
      )}
      {unavailable && <Alert>{t('jobs.unavailable')}</Alert>}
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('jobs.type')}</th>
            <th scope="col">{t('jobs.status')}</th>
            <th scope="col">{t('jobs.started')}</th>
            <th scope="col">{t('jobs.closed')}</th>
            <th scope="col">{t('jobs.details')}</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={`${j.workflowId}/${j.runId}`} data-testid="job">
              <td>
                {j.type in TYPES ? t(TYPES[j.type]!) : j.type}
                {j.mails !== undefined && ` (${t('jobs.mails', { n: j.mails })})`}
                {j.uiLink && (
                  <>
                    {' '}
                    <a href={j.uiLink} target="_blank" rel="noopener noreferrer">
                      {t('jobs.inTemporal')}
                    </a>
                  </>
                )}
              </td>
              <td>
                {t.known(`jobs.status.${j.status}`)
                  ? t(`jobs.status.${j.status}` as 'jobs.status.RUNNING')
                  : j.status}
              </td>
              <td>{dateTime(t.lang, j.startedAt)}</td>
              <td>{j.closedAt ? dateTime(t.lang, j.closedAt) : '–'}</td>
              <td>
                {j.evidence &&
                  t('jobs.evidence', { renewed: j.evidence.renewed, failed: j.evidence.failed })}
                {j.attempt ? t('jobs.attempt', { n: j.attempt }) : ''}
                {j.failure ? (
                  <>
                    {t('jobs.failureDetail')} <code lang="en">{j.failure}</code>
                  </>
                ) : (
                  ''
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
