import { data, useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Submit } from '../components/Field';
import { useT } from '../i18n';
import { byteSize, dateTime } from '../lib/format';
import { formAction, formProblem } from '../lib/form.server';
import { requireRecentAuth, requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';
import { FormError } from '../components/FormError';

/**
 * Import of historical mail (issue 9 §5): upload an MBOX or a ZIP of .eml files; each mail is
 * archived like a delivered one. The list shows every import's progress, counts and the entries it
 * skipped as malformed, with the reason.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/imports'));
  const rows = await context.services.imports.list(session);
  return data(
    {
      imports: rows.map((r) => ({
        id: r.id,
        format: r.format,
        size: Number(r.size),
        status: r.status,
        bytesDone: Number(r.bytes_done),
        entries: r.entries_done,
        archived: r.archived,
        duplicates: r.duplicates,
        malformed: r.malformed,
        problems: r.problems.slice(0, 200),
        error: r.error,
        by: r.email,
        createdAt: r.created_at.toISOString(),
        finishedAt: r.finished_at?.toISOString() ?? null,
      })),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session } = await requireRecentAuth(request, context, rolesFor('/imports'));
  try {
    await context.services.imports.upload(session, {
      ip: context.ip,
      contentType: request.headers.get('content-type') ?? '',
      body: request.body!,
    });
    return { ok: true as const };
  } catch (e) {
    const problem = formProblem(e);
    if (problem) return data({ ok: false as const, error: problem.code }, { status: 400 });
    return data({ ok: false as const, error: 'unavailable' }, { status: 503 });
  }
});

export default function ImportsPage() {
  const t = useT();
  const { imports } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const running = imports.some((i) => i.status === 'running');
  return (
    <div className="wide">
      {running && <meta httpEquiv="refresh" content="3" />}
      <h1>{t('imports.title')}</h1>
      <FormError />
      <p>{t('imports.intro')}</p>
      <p>
        <a href="/imports/imap">{t('imports.imap')}</a>
      </p>
      {result?.ok && <Alert kind="notice">{t('imports.started')}</Alert>}
      {result && !result.ok && (
        <Alert>
          {result.error === 'unavailable'
            ? t('imports.unavailable')
            : t.known(result.error)
              ? t(result.error)
              : t('form.invalid')}
        </Alert>
      )}
      <form method="post" encType="multipart/form-data">
        <label htmlFor="import-file">{t('imports.file')}</label>
        <input id="import-file" type="file" name="file" required accept=".mbox,.mbx,.zip" />
        <Submit>{t('imports.upload')}</Submit>
      </form>
      {imports.map((i) => (
        <section key={i.id} className="import" data-testid="import" aria-label={i.id}>
          <h2>
            {dateTime(t.lang, i.createdAt)} · {i.format.toUpperCase()} · {byteSize(t.lang, i.size)}
          </h2>
          <p>
            {t(`imports.status.${i.status}`)} · {i.by}
          </p>
          {i.status === 'running' && (
            <progress max={Math.max(i.size, 1)} value={Math.min(i.bytesDone, i.size)} />
          )}
          <p data-testid="import-counts">
            {t('imports.counts', {
              entries: i.entries,
              archived: i.archived,
              duplicates: i.duplicates,
              malformed: i.malformed,
            })}
          </p>
          {i.error && <Alert>{t('imports.failed')}</Alert>}
          {i.problems.length > 0 && (
            <details open={i.problems.length <= 20}>
              <summary>{t('imports.problems')}</summary>
              <ul>
                {i.problems.map((p) => (
                  <li key={`${p.entry}-${p.reason}`}>
                    {p.entry >= 0
                      ? t('imports.entry', { n: p.entry + 1, name: p.name ?? '' })
                      : t('imports.wholeFile')}
                    : {t.known(p.reason) ? t(p.reason, p.params) : p.reason}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </section>
      ))}
    </div>
  );
}
