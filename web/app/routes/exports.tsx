import { data, useActionData, useLoaderData, useSearchParams } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { useT } from '../i18n';
import { dateTime } from '../lib/format';
import { requireRecentAuth, requireRole } from '../lib/guards.server';
import { seeOther } from '../lib/http.server';
import { rolesFor } from '../permissions';
import { z } from 'zod';
import { checkbox, choice, parseForm, secret, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * Exports: start one for a search (the archive list links here with its query), as .eml files or
 * one MBOX, with or without PDFs, always as an AES-256 ZIP under a password the user chooses; and
 * the list of exports with their state. Starting one needs a fresh password or code.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/exports'));
  const rows = await context.services.exports.list(session);
  return data(
    {
      exports: rows.map((e) => ({
        id: e.id,
        status: e.status,
        format: e.format,
        total: e.total,
        createdAt: e.created_at.toISOString(),
        expiresAt: e.expires_at?.toISOString() ?? null,
      })),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

/** An export: the search, the format, PDFs or not, and the ZIP password twice (12–128 characters). */
const exportForm = z.object({
  q: text(1000),
  format: choice(['eml', 'mbox']).default('eml'),
  pdfs: checkbox(),
  password: secret(1024),
  repeat: secret(1024),
});

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session, cookie } = await requireRecentAuth(request, context, rolesFor('/exports'));
  const form = await parseForm(request, exportForm);
  const password = form.password;
  if (password.length < 12 || password.length > 128 || password !== form.repeat)
    return data({ error: 'password' as const }, { status: 400 });
  try {
    const id = await context.services.exports.start(session, cookie, {
      query: form.q,
      format: form.format,
      includePdfs: form.pdfs,
      password,
      ip: context.ip,
    });
    return seeOther(`/exports/${id}`);
  } catch {
    return data({ error: 'unavailable' as const }, { status: 503 });
  }
});

export default function Exports() {
  const t = useT();
  const { exports } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  return (
    <div className="wide">
      <h1>{t('exports.title')}</h1>
      <FormError />
      <p>{t('exports.intro')}</p>
      {result?.error && (
        <Alert>
          {t(result.error === 'password' ? 'exports.badPassword' : 'exports.unavailable')}
        </Alert>
      )}
      <form method="post">
        <label htmlFor="export-q">{t('exports.query')}</label>
        <input id="export-q" name="q" type="text" defaultValue={params.get('q') ?? ''} />
        <p className="hint">{t('exports.queryHint')}</p>
        <fieldset>
          <legend>{t('exports.format')}</legend>
          <label>
            <input type="radio" name="format" value="eml" defaultChecked /> {t('exports.eml')}
          </label>
          <label>
            <input type="radio" name="format" value="mbox" /> {t('exports.mbox')}
          </label>
        </fieldset>
        <label>
          <input type="checkbox" name="pdfs" value="1" /> {t('exports.pdfs')}
        </label>
        <Field
          label={t('exports.password')}
          name="password"
          type="password"
          autoComplete="new-password"
        />
        <Field
          label={t('exports.repeat')}
          name="repeat"
          type="password"
          autoComplete="new-password"
        />
        <Submit>{t('exports.start')}</Submit>
      </form>
      <h2>{t('exports.list')}</h2>
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('exports.created')}</th>
            <th scope="col">{t('exports.format')}</th>
            <th scope="col">{t('exports.mails')}</th>
            <th scope="col">{t('exports.status')}</th>
          </tr>
        </thead>
        <tbody>
          {exports.map((e) => (
            <tr key={e.id} data-testid="export">
              <td>
                <a href={`/exports/${e.id}`}>{dateTime(t.lang, e.createdAt)}</a>
              </td>
              <td>{e.format === 'mbox' ? 'MBOX' : 'EML'}</td>
              <td>{e.total ?? '…'}</td>
              <td>{t(`exports.status.${e.status}`)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
