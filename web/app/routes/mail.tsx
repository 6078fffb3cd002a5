import { data, useLoaderData, useSearchParams } from 'react-router';
import type { LoaderArgs } from '../context';
import { Alert } from '../components/Field';
import { useT } from '../i18n';
import { byteSize, dateTime, person } from '../lib/format';
import { requireRole } from '../lib/guards.server';
import { composeQuery } from '../lib/mail-query';
import { rolesFor } from '../permissions';
import { listRow } from '../lib/mail-rows.server';

/**
 * The archive as a read-only mail client: newest first, search box and filters, keyset paging.
 * Everything shown comes from the tenant's search index, decrypted block by block as pages need it
 * (decision 0021); a member sees their own mailbox.
 */

const SORTS = ['newest', 'oldest', 'largest', 'smallest', 'from', 'subject'] as const;
type Sort = (typeof SORTS)[number];

export async function loader({ request, context }: LoaderArgs) {
  const { session, cookie } = await requireRole(request, context, rolesFor('/mail'));
  const params = new URL(request.url).searchParams;
  const sortParam = params.get('sort');
  const sort: Sort = SORTS.includes(sortParam as Sort) ? (sortParam as Sort) : 'newest';
  const result = await context.services.archive.browse(session, cookie, {
    q: composeQuery(params),
    sort,
    cursor: params.get('cursor') ?? undefined,
    limit: 50,
    ip: context.ip,
  });
  const shown = result.kind === 'ok' ? { ...result, hits: result.hits.map(listRow) } : result;
  return data(
    { result: shown, role: session.role, query: composeQuery(params) },
    { headers: { 'Cache-Control': 'no-store' }, status: result.kind === 'error' ? 400 : 200 },
  );
}

export default function MailList() {
  const t = useT();
  const { result, query } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const next = new URLSearchParams(params);
  if (result.kind === 'ok' && result.nextCursor) next.set('cursor', result.nextCursor);
  const first = new URLSearchParams(params);
  first.delete('cursor');
  const v = (k: string) => params.get(k) ?? '';
  return (
    <div className="wide">
      <h1>{t('mail.title')}</h1>
      <form method="get" role="search" className="search">
        <label htmlFor="q">{t('mail.search')}</label>
        <div className="search-row">
          <input id="q" name="q" type="search" defaultValue={v('q')} aria-describedby="q-hint" />
          <button type="submit" className="primary">
            {t('mail.searchSubmit')}
          </button>
        </div>
        <p id="q-hint" className="hint">
          {t('mail.searchHint')}
        </p>
        <details
          open={['from', 'to', 'mailbox', 'after', 'before', 'larger', 'att'].some((k) =>
            params.get(k),
          )}
        >
          <summary>{t('mail.filters')}</summary>
          <div className="filters">
            <Filter label={t('mail.from')} name="from" value={v('from')} />
            <Filter label={t('mail.to')} name="to" value={v('to')} />
            <Filter label={t('mail.mailbox')} name="mailbox" value={v('mailbox')} type="email" />
            <Filter label={t('mail.after')} name="after" value={v('after')} type="date" />
            <Filter label={t('mail.before')} name="before" value={v('before')} type="date" />
            <Filter label={t('mail.largerThan')} name="larger" value={v('larger')} />
            <div>
              <label>
                <input type="checkbox" name="att" value="1" defaultChecked={v('att') === '1'} />{' '}
                {t('mail.hasAttachment')}
              </label>
            </div>
            <div>
              <label htmlFor="sort">{t('mail.sort')}</label>
              <select id="sort" name="sort" defaultValue={v('sort') || 'newest'}>
                {SORTS.map((s) => (
                  <option key={s} value={s}>
                    {t(`mail.sort.${s}`)}
                  </option>
                ))}
              </select>
            </div>
          </div>
        </details>
      </form>
      {result.kind === 'error' ? (
        <Alert>
          {t('mail.queryError', {
            message: t.known(result.code) ? t(result.code, result.params) : '',
          })}
        </Alert>
      ) : (
        <>
          {result.pending > 0 && (
            <p className="notice" data-testid="mail-pending">
              {t('mail.pending', { count: result.pending })}
            </p>
          )}
          <p>
            <a href={`/exports?q=${encodeURIComponent(query)}`}>{t('mail.exportThese')}</a>
            {' · '}
            <a href={`/restores?q=${encodeURIComponent(query)}`}>{t('mail.restoreThese')}</a>
          </p>
          <form id="restore-selection" method="get" action="/restores">
            <button type="submit">{t('mail.restoreSelected')}</button>
          </form>
          <p role="status" data-testid="mail-count">
            {!query && result.total === 0 && result.pending > 0
              ? t('mail.countPending', { count: result.pending })
              : t(countLabel(result), { count: result.total })}
          </p>
          {result.hits.length === 0 ? (
            (query || result.pending === 0) && <p>{t('mail.none')}</p>
          ) : (
            <table className="list mails">
              <thead>
                <tr>
                  <th scope="col">{t('mail.received')}</th>
                  <th scope="col">{t('mail.from')}</th>
                  <th scope="col">{t('mail.subject')}</th>
                  <th scope="col">
                    <span aria-hidden="true">📎</span>
                    <span className="sr-only">{t('mail.attachment')}</span>
                  </th>
                  <th scope="col">{t('mail.size')}</th>
                </tr>
              </thead>
              <tbody>
                {result.hits.map((m) => (
                  <tr key={m.id} data-testid="mail-row">
                    <td>
                      <input
                        type="checkbox"
                        form="restore-selection"
                        name="id"
                        value={m.id}
                        aria-label={t('mail.select', { subject: m.subject ?? '' })}
                      />{' '}
                      {dateTime(t.lang, m.receivedAt)}
                    </td>
                    <td>
                      <span className="clip" title={m.from.map(person).join(', ')}>
                        {m.from.map(person).join(', ')}
                        {m.moreSenders > 0 && ` +${m.moreSenders}`}
                      </span>
                    </td>
                    <td>
                      <a
                        href={`/mail/${m.id}`}
                        className="clip"
                        title={m.subject ?? undefined}
                        data-testid="mail-subject"
                      >
                        {m.subject || t('mail.noSubject')}
                      </a>
                      {m.snippet && (
                        <div className="snippet" data-testid="snippet">
                          {m.snippetSource && (
                            <span className="snippet-source" data-testid="snippet-source">
                              {m.snippetSource.page
                                ? t('mail.snippetInPage', {
                                    file: m.snippetSource.filename,
                                    page: m.snippetSource.page,
                                  })
                                : t('mail.snippetIn', { file: m.snippetSource.filename })}{' '}
                            </span>
                          )}
                          {m.snippet.map((p, i) =>
                            p.hit ? <mark key={i}>{p.text}</mark> : p.text,
                          )}
                        </div>
                      )}
                    </td>
                    <td>
                      {m.attachments ? (
                        <span title={t('mail.attachment')}>📎 {m.attachments}</span>
                      ) : (
                        ''
                      )}
                    </td>
                    <td>{byteSize(t.lang, m.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <nav className="pager">
            {params.get('cursor') && <a href={`?${first}`}>{t('mail.first')}</a>}{' '}
            {result.nextCursor && <a href={`?${next}`}>{t('mail.more')}</a>}
          </nav>
        </>
      )}
    </div>
  );
}

function Filter(props: { label: string; name: string; value: string; type?: string }) {
  return (
    <div>
      <label htmlFor={`f-${props.name}`}>{props.label}</label>
      <input
        id={`f-${props.name}`}
        name={props.name}
        type={props.type ?? 'text'}
        defaultValue={props.value}
      />
    </div>
  );
}

/** Exact, an upper bound (phrases not yet checked), a lower bound (not every match counted). */
function countLabel(r: { approximate: boolean; totalExact: boolean }) {
  if (!r.totalExact) return r.approximate ? 'mail.countMany' : 'mail.countAtLeast';
  return r.approximate ? 'mail.countApprox' : 'mail.count';
}
