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
const SINCE = { day: 1, week: 7, month: 30, all: 0 } as const;
type Since = keyof typeof SINCE;
const STATES = ['failed', 'running', 'completed'] as const;

export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/jobs'));
  const url = new URL(request.url);
  const state = STATES.find((s) => s === url.searchParams.get('state'));
  const type = Object.keys(TYPES).find((t) => t === url.searchParams.get('type'));
  const since: Since =
    (Object.keys(SINCE) as Since[]).find((s) => s === url.searchParams.get('since')) ?? 'week';
  const filter = { state, type, since };
  const backlog = await context.services.indexBacklog(session);
  try {
    const jobs = await context.services.listJobs(session, {
      state,
      type,
      since: SINCE[since] ? new Date(Date.now() - SINCE[since] * 86_400_000) : undefined,
    });
    return data(
      { ...jobs, filter, unavailable: false, backlog },
      { headers: { 'Cache-Control': 'no-store' } },
    );
  } catch {
    return data(
      { rows: [], counts: undefined, archiving: undefined, filter, unavailable: true, backlog },
      { status: 503 },
    );
  }
}

/** Where a job's subject is shown (the export, the import, the mail…). */
function subjectOf(j: {
  type: string;
  workflowId: string;
  firstMailId?: string;
}): string | undefined {
  switch (j.type) {
    case 'exportMailbox':
      return `/exports/${j.workflowId.replace(/^export-/, '')}`;
    case 'importMail':
      return '/imports';
    case 'importImapAccount':
      return '/imports/imap';
    case 'restoreMails':
      return '/restores';
    case 'rotateKeys':
      return '/settings/keys';
    case 'integrityCheck':
      return '/settings/integrity';
    case 'retentionRun':
      return '/settings/retention';
    case 'archiveBatch':
    case 'archiveMail':
      return j.firstMailId ? `/mail/${j.firstMailId}` : undefined;
    default:
      return undefined;
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
  importImapAccount: 'jobs.type.importImapAccount',
  restoreMails: 'jobs.type.restoreMails',
  renewEvidence: 'jobs.type.renewEvidence',
};

export default function Jobs() {
  const t = useT();
  const {
    rows: jobs,
    counts,
    archiving,
    filter,
    unavailable,
    backlog,
  } = useLoaderData<typeof loader>();
  return (
    <div className="wide">
      <h1>{t('jobs.title')}</h1>
      <p>{t('jobs.intro')}</p>
      <form method="get" className="filters" aria-label={t('jobs.filter')}>
        <label>
          {t('jobs.filter.state')}{' '}
          <select name="state" defaultValue={filter.state ?? ''}>
            <option value="">{t('jobs.filter.all')}</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {t(`jobs.state.${s}`)}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          {t('jobs.type')}{' '}
          <select name="type" defaultValue={filter.type ?? ''}>
            <option value="">{t('jobs.filter.all')}</option>
            {Object.entries(TYPES).map(([type, key]) => (
              <option key={type} value={type}>
                {t(key)}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          {t('jobs.filter.since')}{' '}
          <select name="since" defaultValue={filter.since}>
            {(Object.keys(SINCE) as Since[]).map((s) => (
              <option key={s} value={s}>
                {t(`jobs.since.${s}`)}
              </option>
            ))}
          </select>
        </label>{' '}
        <button type="submit">{t('jobs.filter.apply')}</button>
      </form>
      {counts && (
        <p data-testid="job-counts">
          {STATES.map((s) => (
            <a key={s} href={`/jobs?state=${s}&since=${filter.since}`} data-state={s}>
              {t(`jobs.count.${s}`, { n: counts[s] })}
            </a>
          )).reduce<React.ReactNode[]>((acc, el, i) => (i ? [...acc, ' · ', el] : [el]), [])}
        </p>
      )}
      {archiving && !filter.type && (
        <p data-testid="job-archiving">
          {t('jobs.archiving', {
            mails: archiving.mails.toLocaleString(t.lang === 'de' ? 'de-DE' : 'en-GB'),
            since: t(`jobs.since.${filter.since}`),
            failed: archiving.failed,
          })}
        </p>
      )}
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
            <th scope="col">{t('jobs.subject')}</th>
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
              <td>
                {subjectOf(j) && (
                  <a href={subjectOf(j)} data-testid="job-subject">
                    {t('jobs.open')}
                  </a>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
