import { data, useLoaderData } from 'react-router';
import type { LoaderArgs } from '../context';
import { Alert } from '../components/Field';
import { useT } from '../i18n';
import { byteSize, dateTime } from '../lib/format';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/** One export: live progress (reloads itself while running), then the files. */
export async function loader({ request, context, params }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/exports'));
  const row = await context.services.exports.get(session, params.id!);
  if (!row) throw data(null, { status: 404 });
  // Written by the export's activity while it writes (exports.mails_done).
  const total = row.total ?? 0;
  const done = row.status === 'done' ? total : row.mails_done;
  const elapsedS = Math.max(1, (Date.now() - row.created_at.getTime()) / 1000);
  const rate = row.status === 'running' && done ? done / elapsedS : 0;
  return data(
    {
      id: row.id,
      status: row.status,
      error: row.error,
      total,
      done,
      etaS: rate ? Math.round((total - done) / rate) : null,
      expiresAt: row.expires_at?.toISOString() ?? null,
      parts: row.parts.map((p) => ({ n: p.n, size: p.size, sha256: p.sha256, mails: p.mails })),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

export default function ExportPage() {
  const t = useT();
  const e = useLoaderData<typeof loader>();
  return (
    <div className="wide">
      {e.status === 'running' && <meta httpEquiv="refresh" content="2" />}
      <p>
        <a href="/exports">← {t('exports.title')}</a>
      </p>
      <h1>{t('exports.one')}</h1>
      <p data-testid="export-status">{t(`exports.status.${e.status}`)}</p>
      {e.status === 'running' && (
        <>
          <progress max={e.total || 1} value={e.done} aria-label={t('exports.progress')} />
          <p data-testid="export-progress">
            {t('exports.counts', { done: e.done, total: e.total })}
            {e.etaS !== null && ` · ${t('exports.eta', { s: e.etaS })}`}
          </p>
        </>
      )}
      {e.status === 'failed' && <Alert>{t('exports.failed')}</Alert>}
      {e.status === 'done' && (
        <>
          <p>{t('exports.ready', { at: e.expiresAt ? dateTime(t.lang, e.expiresAt) : '–' })}</p>
          <ul>
            {e.parts.map((p) => (
              <li key={p.n} data-testid="export-part">
                <a href={`/exports/${e.id}/parts/${p.n}`} download>
                  {t('exports.part', { n: p.n + 1, mails: p.mails })}
                </a>{' '}
                ({byteSize(t.lang, p.size)}, SHA-256 <code className="hash">{p.sha256}</code>)
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
