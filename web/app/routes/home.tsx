import type { ActionArgs, LoaderArgs } from '../context';
import { data, useActionData, useLoaderData } from 'react-router';
import { formAction } from '../lib/form.server';
import { Submit } from '../components/Field';
import { useT } from '../i18n';
import { requireUser } from '../lib/guards.server';
import { byteSize, dateTime } from '../lib/format';
import { rolesFor, type GuardedPage } from '../permissions';

/**
 * The home page (issue 20 §4): the archive's state, scoped to what the role may see — the whole
 * tenant's counts, sealing and integrity for owners, admins and auditors (integrity, jobs and
 * retention only where the permission matrix opens their pages), a member's own mailbox from the
 * index. A part that cannot be read now (Temporal away) says so; the page still loads.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session, cookie } = await requireUser(request, context);
  const s = context.services;
  const may = (page: GuardedPage) => rolesFor(page).includes(session.role);
  // Reading the page changes nothing (a GET never does): a due rotation is offered, started by
  // the sign-in itself or the button below.
  const [rotationDue, archive, mailbox, jobs, nextRetention] = await Promise.all([
    s.keys.isDue(session).catch(() => false),
    session.role === 'member' ? null : s.dashboard.archive(session),
    session.role === 'member'
      ? s.archive.mailboxOverview(session, cookie, context.ip).catch(() => null)
      : null,
    may('/jobs') ? s.dashboard.jobs(session) : undefined,
    may('/settings/retention') ? s.dashboard.nextRetentionRun(session) : undefined,
  ]);
  const status = archive && {
    ...archive,
    integrity: may('/settings/integrity') ? archive.integrity : undefined,
  };
  return data(
    { email: session.email, role: session.role, rotationDue, status, mailbox, jobs, nextRetention },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

export const action = formAction(async ({ request, context }: ActionArgs) => {
  const { session, cookie } = await requireUser(request, context);
  const started = await context.services.keys.startIfDue(session, cookie).catch(() => false);
  return { rotationStarted: started };
});

function Stat(props: { id: string; label: string; value: string; note?: string; bad?: boolean }) {
  return (
    <li data-testid={`stat-${props.id}`}>
      {props.label}
      <span className={props.bad ? 'value bad' : 'value'}>{props.value}</span>
      {props.note && <span className="hint">{props.note}</span>}
    </li>
  );
}

export default function Home() {
  const t = useT();
  const { email, role, rotationDue, status, mailbox, jobs, nextRetention } =
    useLoaderData<typeof loader>();
  const rotationStarted = useActionData<typeof action>()?.rotationStarted;
  const n = (v: number) => v.toLocaleString(t.lang === 'de' ? 'de-DE' : 'en-GB');
  const when = (d: Date | string | null | undefined) => (d ? dateTime(t.lang, d) : t('home.never'));
  return (
    <div className="wide">
      <h1>{t('home.title')}</h1>
      <p>{t('home.signedInAs', { email, role: t(`role.${role}`) })}</p>
      {rotationStarted ? (
        <p className="notice" role="status">
          {t('keys.scheduledStarted')} <a href="/settings/keys">{t('nav.keys')}</a>
        </p>
      ) : (
        rotationDue && (
          <form method="post" className="notice">
            {t('keys.scheduledDue')} <Submit>{t('keys.startDue')}</Submit>
          </form>
        )
      )}
      {status && (
        <ul className="stats" aria-label={t('home.archiveState')}>
          <Stat
            id="mails"
            label={t('home.mails')}
            value={n(status.mails)}
            note={byteSize(t.lang, status.bytes)}
          />
          <Stat
            id="received"
            label={t('home.receivedToday')}
            value={n(status.today)}
            note={t('home.receivedDetail', {
              hour: n(status.lastHour),
              last: when(status.lastReceivedAt),
            })}
          />
          <Stat
            id="sealed"
            label={t('home.lastSealed')}
            value={
              status.sealed
                ? when(status.sealed.tsaTime ?? status.sealed.checkpointAt)
                : t('home.never')
            }
            note={
              status.sealed
                ? t('home.sealedDetail', { entries: n(status.sealed.entries) })
                : undefined
            }
          />
          <Stat id="unsealed" label={t('home.unsealed')} value={n(status.unsealed)} />
          <Stat id="index" label={t('home.pendingIndex')} value={n(status.pendingIndex)} />
          {status.integrity !== undefined && (
            <Stat
              id="integrity"
              label={t('home.integrity')}
              value={
                !status.integrity
                  ? t('home.never')
                  : !status.integrity.finishedAt
                    ? t('home.integrityRunning')
                    : status.integrity.problems
                      ? t('home.integrityProblems', { count: n(status.integrity.problems) })
                      : t('home.integrityOk')
              }
              bad={!!status.integrity?.problems}
              note={
                status.integrity
                  ? t('home.integrityDetail', {
                      at: when(status.integrity.finishedAt ?? status.integrity.startedAt),
                      objects: n(status.integrity.objectsChecked),
                    })
                  : undefined
              }
            />
          )}
          {jobs !== undefined && (
            <Stat
              id="jobs"
              label={t('home.jobs')}
              value={
                jobs
                  ? t('home.jobsValue', { running: n(jobs.running), failed: n(jobs.failed) })
                  : t('home.unavailable')
              }
              bad={!!jobs?.failed}
            />
          )}
          {nextRetention !== undefined && (
            <Stat
              id="retention"
              label={t('home.nextRetention')}
              value={nextRetention ? when(nextRetention) : t('home.unavailable')}
            />
          )}
        </ul>
      )}
      {role === 'member' && (
        <ul className="stats" aria-label={t('home.mailboxState')}>
          {mailbox ? (
            <>
              <Stat id="mails" label={t('home.myMails')} value={n(mailbox.mails)} />
              <Stat
                id="received"
                label={t('home.receivedToday')}
                value={n(mailbox.today)}
                note={t('home.lastReceived', { last: when(mailbox.lastReceivedAt) })}
              />
              <Stat id="index" label={t('home.pendingIndex')} value={n(mailbox.pendingIndex)} />
            </>
          ) : (
            <Stat id="mails" label={t('home.myMails')} value={t('home.unavailable')} />
          )}
        </ul>
      )}
      <p>
        <a href="/mail">{t('home.toArchive')}</a>
      </p>
    </div>
  );
}
