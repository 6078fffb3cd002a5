import { data, useLoaderData } from 'react-router';
import type { LoaderArgs } from '../context';
import { Alert } from '../components/Field';
import { useT, type MessageKey } from '../i18n';
import { actorName, detailLine, eventSentence, type People } from '../lib/audit-sentence';
import { AUDIT_GROUP_LIST, auditQuery, filterParams } from '../lib/audit-filter.server';
import { dateTime } from '../lib/format';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/**
 * The audit log as an auditor reads it (issue 25 §1): who did what, when and from where, in
 * sentences; filters by person, area, mail and days; pages by sequence number; a check of the
 * shown events against the ledger and its RFC 3161 time; the auditor export of the time range.
 * Owners, admins and auditors; read-only.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session, cookie } = await requireRole(request, context, rolesFor('/audit'));
  const url = new URL(request.url);
  const q = auditQuery(url);
  const log = context.services.auditLog;
  const people = await log.people(session);
  const base = {
    form: q.form,
    qs: filterParams(q.form),
    groups: AUDIT_GROUP_LIST,
    people: people.map((p) => ({ id: p.id, email: p.email, role: p.role })),
    exportMax: log.exportMax,
  };
  if (q.problem)
    return data(
      { ...base, problem: q.problem, events: [], mail: undefined, range: undefined,
        older: undefined, newer: undefined, verdict: undefined, exportCount: 0 }, // prettier-ignore
      { status: 400 },
    );
  const page = await log.page(session, cookie, q.filter, q.cursor, context.ip);
  const verdict =
    url.searchParams.get('verify') === '1' && page.range
      ? await log.verify(session, page.range)
      : undefined;
  const exportCount = await log.count(session, q.filter);
  return data(
    {
      ...base,
      problem: undefined,
      events: page.events.map((e) => ({ ...e, at: e.at.toISOString() })),
      mail: page.mail,
      range: page.range,
      older: page.older,
      newer: page.newer,
      verdict,
      exportCount,
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

export default function Audit() {
  const t = useT();
  const d = useLoaderData<typeof loader>();
  const people: People = Object.fromEntries(d.people.map((p) => [p.id, p]));
  const cursorLink = (k: 'before' | 'after', seq: number) =>
    `/audit?${d.qs ? `${d.qs}&` : ''}${k}=${seq}`;
  const quote = (text: string) => t('audit.quote', { text });
  const number = (n: number) => n.toLocaleString(t.lang === 'de' ? 'de-DE' : 'en-GB');
  return (
    <div className="wide">
      <h1>{t('audit.title')}</h1>
      <p>{t('audit.intro')}</p>
      <form method="get" className="filters" aria-label={t('audit.filter.apply')}>
        <label>
          {t('audit.filter.person')}{' '}
          <select name="actor" defaultValue={d.form.actor}>
            <option value="">{t('audit.filter.any')}</option>
            {d.people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.email} ({t(`role.${p.role}` as MessageKey)})
              </option>
            ))}
            <option value="operator">{t('audit.operator')}</option>
            <option value="system">{t('audit.system')}</option>
          </select>
        </label>{' '}
        <label>
          {t('audit.filter.group')}{' '}
          <select name="group" defaultValue={d.form.group}>
            <option value="">{t('audit.filter.any')}</option>
            {d.groups.map((g) => (
              <option key={g} value={g}>
                {t(`audit.group.${g}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          {t('audit.filter.mail')}{' '}
          <input name="mail" defaultValue={d.form.mail} size={38} spellCheck={false} />
        </label>{' '}
        <label>
          {t('audit.filter.from')} <input type="date" name="from" defaultValue={d.form.from} />
        </label>{' '}
        <label>
          {t('audit.filter.to')} <input type="date" name="to" defaultValue={d.form.to} />
        </label>{' '}
        <button type="submit">{t('audit.filter.apply')}</button>{' '}
        {d.qs && <a href="/audit">{t('audit.filter.reset')}</a>}
      </form>
      {d.problem && <Alert>{t('audit.badFilter', { what: d.problem })}</Alert>}
      {d.form.mail && !d.problem && (
        <h2 data-testid="audit-mail">
          {t('audit.forMail', {
            mail: d.mail ? quote(d.mail.subject ?? t('audit.noSubject')) : t('audit.mailHidden'),
          })}{' '}
          {d.mail && <a href={`/mail/${d.form.mail}`}>{t('audit.openMail')}</a>}
        </h2>
      )}
      {!d.problem && !d.events.length && <p data-testid="audit-none">{t('audit.none')}</p>}
      {d.events.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t('audit.when')}</th>
              <th scope="col">{t('audit.who')}</th>
              <th scope="col">{t('audit.what')}</th>
              <th scope="col">{t('audit.where')}</th>
            </tr>
          </thead>
          <tbody>
            {d.events.map((e) => (
              <tr key={e.seq} data-testid="audit-event" data-action={e.action}>
                <td>{e.seq}</td>
                <td>{dateTime(t.lang, e.at)}</td>
                <td data-testid="audit-who">{actorName(t.lang, e, people)}</td>
                <td>
                  <span data-testid="audit-what">{eventSentence(t.lang, e, people)}</span>
                  {e.target?.type === 'message' && e.target.id !== d.form.mail && (
                    <>
                      {' '}
                      <a href={`/audit?mail=${e.target.id}`} data-testid="audit-only-mail">
                        {t('audit.onlyThisMail')}
                      </a>
                    </>
                  )}
                  <details>
                    <summary>{t('audit.details')}</summary>
                    <code>{detailLine(e)}</code>
                    {e.sealed && !e.opened && <> · {t('audit.sealed')}</>}
                  </details>
                </td>
                <td>{e.ip ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pager" aria-label="pages">
        {d.newer !== undefined && (
          <a href={cursorLink('after', d.newer)} data-testid="audit-newer">
            {t('audit.newer')}
          </a>
        )}{' '}
        {d.older !== undefined && (
          <a href={cursorLink('before', d.older)} data-testid="audit-older">
            {t('audit.older')}
          </a>
        )}
      </nav>
      {d.range && (
        <section data-testid="audit-verify" aria-labelledby="audit-verify-title">
          <h2 id="audit-verify-title">{t('audit.verify.title')}</h2>
          <p>{t('audit.verify.help')}</p>
          <form method="get">
            {Object.entries(d.form).map(([k, v]) =>
              v ? <input key={k} type="hidden" name={k} value={v} /> : null,
            )}
            {/* The same events again: everything up to the newest shown, newest first. */}
            <input type="hidden" name="before" value={d.range.to + 1} />
            <input type="hidden" name="verify" value="1" />
            <button type="submit">{t('audit.verify.run')}</button>
          </form>
          {d.verdict && <Verdict verdict={d.verdict} />}
        </section>
      )}
      <section data-testid="audit-export" aria-labelledby="audit-export-title">
        <h2 id="audit-export-title">{t('audit.export.title')}</h2>
        <p>
          {t('audit.export.help', {
            n: d.exportCount > d.exportMax ? `> ${number(d.exportMax)}` : number(d.exportCount),
          })}
        </p>
        {d.exportCount > d.exportMax ? (
          <Alert>{t('audit.export.tooMany', { max: number(d.exportMax) })}</Alert>
        ) : (
          <a
            href={`/audit/export${d.qs ? `?${d.qs}` : ''}`}
            download
            data-testid="audit-export-link"
          >
            {t('audit.export.download')}
          </a>
        )}
      </section>
    </div>
  );
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>;

function Verdict({ verdict: v }: { verdict: NonNullable<LoaderData['verdict']> }) {
  const t = useT();
  const a = v.anchor;
  return (
    <div data-testid="audit-verdict" data-intact={v.intact ? 'yes' : 'no'}>
      <p role="status">
        <strong>
          {v.intact
            ? t('audit.verify.intact', { from: v.from, to: v.to, n: v.checked })
            : t('audit.verify.broken', { from: v.from, to: v.to })}
        </strong>
      </p>
      {v.problems.length > 0 && (
        <ul data-testid="audit-problems">
          {v.problems.map((p) => (
            <li key={`${p.seq}:${p.what}`}>
              #{p.seq}: <span lang="en">{p.what}</span>
            </li>
          ))}
        </ul>
      )}
      {a && (
        <p data-testid="audit-anchor">
          {t('audit.verify.anchor', {
            seq: a.seq,
            origin: a.tenantLog.origin || '–',
            index: a.ledgerIndex,
            size: a.tenantLog.checkpointSize || '–',
            anchorOrigin: a.anchorLog.origin || '–',
            anchorIndex: a.anchorLog.index,
            anchorSize: a.anchorLog.checkpointSize || '–',
          })}{' '}
          {a.genTime && (
            <span data-testid="audit-tsa-time">
              {t('audit.verify.time', {
                time: new Date(a.genTime).toLocaleString(t.lang === 'de' ? 'de-DE' : 'en-GB', {
                  timeZone: 'Europe/Berlin',
                  dateStyle: 'medium',
                  timeStyle: 'long',
                }),
                records: a.records,
              })}
            </span>
          )}
          {a.pending && t('audit.verify.pending', { seq: a.seq })}
        </p>
      )}
      {v.unanchored && (
        <p data-testid="audit-unanchored">
          {t('audit.verify.unanchored', { from: v.unanchored.from, to: v.unanchored.to })}
        </p>
      )}
      {a && a.steps.length > 0 && (
        <details>
          <summary>{t('audit.verify.steps')}</summary>
          <ol>
            {a.steps.map((s) => (
              <li key={s.step} data-status={s.status}>
                {s.step}: {s.status}
                {s.detail ? ` — ${s.detail}` : ''}
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}
