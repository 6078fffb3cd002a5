import { data, useActionData, useLoaderData } from 'react-router';
import { z } from 'zod';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { FormError } from '../components/FormError';
import { ImapAccountFields, imapAccountSchema } from '../components/ImapAccountFields';
import { useT } from '../i18n';
import { dateTime } from '../lib/format';
import { parseForm, secret, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { requireRecentAuth, requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';
import { InputError } from '../../../lib/input/input-error';

/**
 * IMAP import (issue 22 §3): an owner or admin imports a mailbox from an IMAP server, once or
 * continuously, or several at once from a CSV list. Every folder is imported with its path; the
 * list shows progress per folder and the errors of folders that failed. Passwords are never shown
 * again or stored (they travel only in the encrypted workflow input).
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/imports'));
  const rows = await context.services.imapImports.list(session);
  return data(
    {
      imports: rows.map((r) => ({
        id: r.id,
        server: `${r.host}:${r.port}`,
        user: r.username,
        status: r.status,
        continuousMinutes: r.continuous_minutes,
        error: r.error,
        lastSyncAt: r.last_sync_at?.toISOString() ?? null,
        createdAt: r.created_at.toISOString(),
        folders: r.folders.map((f) => ({
          path: f.path,
          archived: f.archived,
          duplicates: f.duplicates,
          skipped: f.skipped,
          error: f.error,
        })),
      })),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

const imapForm = z.object({
  intent: text(16),
  import: text(64),
  ...imapAccountSchema,
  continuousMinutes: text(5),
  accounts: secret(256 * 1024),
  /** The same list as a file (the browser sends an empty one when none is chosen). */
  accountsFile: z.instanceof(File).optional(),
});

const LIST_BYTES = 256 * 1024;

/** The pasted list, or the uploaded file's text. */
async function accountList(form: { accounts: string; accountsFile?: File }): Promise<string> {
  if (form.accounts.trim() || !form.accountsFile?.size) return form.accounts;
  if (form.accountsFile.size > LIST_BYTES)
    throw new InputError('form.tooLarge', { maxBytes: LIST_BYTES }, 'accountsFile');
  return form.accountsFile.text();
}

/** `host;port;security;user;password` per line (the password last: it may contain `;`). */
function csvAccounts(raw: string) {
  return raw
    .split(/\r?\n/)
    .map((text, i) => ({ text: text.trim(), line: i + 1 }))
    .filter(({ text }) => text && !text.startsWith('#'))
    .map(({ text, line }) => {
      const [host = '', port = '', security = '', user = '', ...rest] = text.split(';');
      return { host, port, security, user, password: rest.join(';'), line };
    });
}

export const action = formAction(async ({ request, context }: ActionArgs) => {
  const { session } = await requireRecentAuth(request, context, rolesFor('/imports'));
  const form = await parseForm(request, imapForm);
  const imap = context.services.imapImports;
  if (form.intent === 'sync') {
    await imap.syncNow(session, form.import);
    return data({ started: 0 });
  }
  if (form.intent === 'stop') {
    await imap.stop(session, form.import);
    return data({ started: 0 });
  }
  const common = { ca: form.ca, continuousMinutes: form.continuousMinutes };
  if (form.intent === 'csv') {
    const accounts = csvAccounts(await accountList(form)).map((a) => ({ ...a, ...common }));
    return data({ started: await imap.startMany(session, accounts, context.ip) });
  }
  await imap.start(
    session,
    {
      host: form.host,
      port: form.port,
      security: form.security,
      user: form.user,
      password: form.password,
      ...common,
    },
    context.ip,
  );
  return data({ started: 1 });
});

export default function ImapImportsPage() {
  const t = useT();
  const { imports } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const running = imports.some((i) => i.status === 'running');
  return (
    <div className="wide">
      {running && <meta httpEquiv="refresh" content="3" />}
      <p>
        <a href="/imports">← {t('imports.title')}</a>
      </p>
      <h1>{t('imap.title')}</h1>
      <FormError />
      <p>{t('imap.intro')}</p>
      {result && result.started > 0 && (
        <Alert kind="notice">{t('imap.started', { count: result.started })}</Alert>
      )}
      <form method="post" autoComplete="off">
        <input type="hidden" name="intent" value="start" />
        <ImapAccountFields />
        <Field
          label={t('imap.interval')}
          name="continuousMinutes"
          inputMode="numeric"
          required={false}
        />
        <Submit>{t('imap.start')}</Submit>
      </form>
      <details>
        <summary>{t('imap.csvTitle')}</summary>
        <form method="post" autoComplete="off" encType="multipart/form-data">
          <input type="hidden" name="intent" value="csv" />
          <label>
            {t('imap.csvFile')}
            <input type="file" name="accountsFile" accept=".csv,text/csv,text/plain" />
          </label>
          <label>
            {t('imap.csv')}
            <textarea name="accounts" rows={6} maxLength={262144} />
          </label>
          <Field
            label={t('imap.interval')}
            name="continuousMinutes"
            inputMode="numeric"
            required={false}
          />
          <Submit>{t('imap.startAll')}</Submit>
        </form>
      </details>
      {imports.map((i) => (
        <section key={i.id} className="import" data-testid="imap-import" aria-label={i.id}>
          <h2>
            {i.user} · {i.server}
          </h2>
          <p data-testid="imap-status">
            {t(`imap.status.${i.status}`)} · {dateTime(t.lang, i.createdAt)}
            {i.lastSyncAt && <> · {t('imap.lastSync', { at: dateTime(t.lang, i.lastSyncAt) })}</>}
            {i.continuousMinutes && <> · {t('imap.every', { minutes: i.continuousMinutes })}</>}
          </p>
          {i.error && <Alert>{t('imap.failed', { error: i.error })}</Alert>}
          {i.status === 'watching' && (
            <div className="actions">
              <form method="post">
                <input type="hidden" name="intent" value="sync" />
                <input type="hidden" name="import" value={i.id} />
                <button type="submit">{t('imap.syncNow')}</button>
              </form>
              <form method="post">
                <input type="hidden" name="intent" value="stop" />
                <input type="hidden" name="import" value={i.id} />
                <button type="submit">{t('imap.stop')}</button>
              </form>
            </div>
          )}
          <table className="list">
            <thead>
              <tr>
                <th scope="col">{t('imap.folder')}</th>
                <th scope="col">{t('imap.archived')}</th>
                <th scope="col">{t('imap.duplicates')}</th>
                <th scope="col">{t('imap.skipped')}</th>
                <th scope="col">{t('imap.folderError')}</th>
              </tr>
            </thead>
            <tbody>
              {i.folders.map((f) => (
                <tr key={f.path} data-testid="imap-folder">
                  <td>{f.path}</td>
                  <td>{f.archived}</td>
                  <td>{f.duplicates}</td>
                  <td>{f.skipped}</td>
                  <td>{f.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
