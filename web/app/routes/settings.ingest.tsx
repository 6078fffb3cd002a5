import { data, useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { FormError } from '../components/FormError';
import { useT } from '../i18n';
import { dateTime } from '../lib/format';
import { formAction } from '../lib/form.server';
import { requireRecentAuth, requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/**
 * Who may deliver into this archive (issue 17 §1): the credentials of the tenant's own mail
 * servers. A new secret is shown once, right here; creating and revoking need a fresh password
 * and are audited.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/ingest'));
  const rows = await context.services.ingestCredentials.list(session);
  return data(
    {
      credentials: rows.map((c) => ({
        id: c.id,
        label: c.label,
        createdAt: c.created_at.toISOString(),
        createdBy: c.created_by,
        revokedAt: c.revoked_at?.toISOString() ?? null,
      })),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

export const action = formAction(async ({ request, context }: ActionArgs) => {
  const { session } = await requireRecentAuth(request, context, rolesFor('/settings/ingest'));
  const form = await request.formData();
  const ingest = context.services.ingestCredentials;
  if (form.get('intent') === 'revoke') {
    await ingest.revoke(session, String(form.get('credential') ?? ''), context.ip);
    return data({ revoked: true as const, created: null });
  }
  const created = await ingest.create(session, String(form.get('label') ?? ''), context.ip);
  return data({ revoked: false as const, created }, { headers: { 'Cache-Control': 'no-store' } });
});

export default function IngestCredentials() {
  const t = useT();
  const { credentials } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <div className="wide">
      <h1>{t('ingest.title')}</h1>
      <FormError />
      <p>{t('ingest.intro')}</p>
      {result?.created && (
        <div className="notice" role="status" data-testid="ingest-secret">
          <p>{t('ingest.createdOnce')}</p>
          <p>
            {t('ingest.user')} <code data-testid="ingest-user">{result.created.id}</code>
          </p>
          <p>
            {t('ingest.secret')} <code data-testid="ingest-password">{result.created.secret}</code>
          </p>
        </div>
      )}
      {result?.revoked && <Alert kind="notice">{t('ingest.revoked')}</Alert>}
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('ingest.label')}</th>
            <th scope="col">{t('ingest.user')}</th>
            <th scope="col">{t('ingest.created')}</th>
            <th scope="col">{t('ingest.state')}</th>
          </tr>
        </thead>
        <tbody>
          {credentials.map((c) => (
            <tr key={c.id} data-testid="ingest-credential">
              <td>{c.label}</td>
              <td>
                <code>{c.id}</code>
              </td>
              <td>
                {dateTime(t.lang, c.createdAt)} · {c.createdBy}
              </td>
              <td>
                {c.revokedAt ? (
                  t('ingest.revokedAt', { at: dateTime(t.lang, c.revokedAt) })
                ) : (
                  <form method="post">
                    <input type="hidden" name="intent" value="revoke" />
                    <input type="hidden" name="credential" value={c.id} />
                    <button type="submit">{t('ingest.revoke')}</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('ingest.new')}</h2>
      <form method="post">
        <input type="hidden" name="intent" value="create" />
        <Field label={t('ingest.label')} name="label" />
        <Submit>{t('ingest.create')}</Submit>
      </form>
    </div>
  );
}
