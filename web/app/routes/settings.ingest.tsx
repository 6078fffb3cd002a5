import { data, useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { FormError } from '../components/FormError';
import { useT } from '../i18n';
import { dateTime } from '../lib/format';
import { z } from 'zod';
import { parseForm, secret, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { requireRecentAuth, requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/**
 * Who may deliver into this archive (issue 17 §1): the credentials of the tenant's own mail
 * servers: client certificates from the deployment's ingest CA (for a pasted CSR, or with a key
 * made here and shown once) and SASL secrets (shown once). Creating and revoking need a fresh
 * password and are audited.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/ingest'));
  const rows = await context.services.ingestCredentials.list(session);
  const journal = await context.services.journal.list(session);
  return data(
    {
      journal: {
        domain: context.services.journal.domain,
        dkimDomains: journal.dkimDomains,
        addresses: journal.addresses.map((a) => ({
          id: a.id,
          shown: a.shown,
          label: a.label,
          createdAt: a.created_at.toISOString(),
          createdBy: a.created_by,
          revokedAt: a.revoked_at?.toISOString() ?? null,
        })),
      },
      certificates: context.services.ingestCredentials.certificates,
      credentials: rows.map((c) => ({
        id: c.id,
        kind: c.kind,
        expiresAt: c.expires_at?.toISOString() ?? null,
        label: c.label,
        createdAt: c.created_at.toISOString(),
        createdBy: c.created_by,
        revokedAt: c.revoked_at?.toISOString() ?? null,
      })),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

/**
 * Revoke a credential, or make one: a password, or a certificate (from the mail server's CSR when
 * given). The label and the CSR are checked by the domain (lib/ingest/credentials.ts).
 */
const ingestForm = z.object({
  intent: text(16),
  credential: text(64),
  kind: text(16),
  label: text(200),
  csr: secret(64 * 1024),
  address: text(64),
  domains: text(4000),
});

export const action = formAction(async ({ request, context }: ActionArgs) => {
  const { session } = await requireRecentAuth(request, context, rolesFor('/settings/ingest'));
  const form = await parseForm(request, ingestForm);
  const ingest = context.services.ingestCredentials;
  const noStore = { headers: { 'Cache-Control': 'no-store' } };
  const none = { revoked: false as const, created: null, issued: null, journalAddress: null };
  if (form.intent === 'revoke') {
    await ingest.revoke(session, form.credential, context.ip);
    return data({ ...none, revoked: true as const });
  }
  if (form.intent === 'journal-create') {
    const created = await context.services.journal.create(session, form.label, context.ip);
    return data({ ...none, journalAddress: created.address }, noStore);
  }
  if (form.intent === 'journal-revoke') {
    await context.services.journal.revoke(session, form.address, context.ip);
    return data({ ...none, revoked: true as const });
  }
  if (form.intent === 'journal-dkim') {
    await context.services.journal.requireDkim(session, form.domains, context.ip);
    return data(none);
  }
  const label = form.label;
  if (form.kind === 'certificate') {
    const issued = await ingest.createCertificate(session, { label, csrPem: form.csr }, context.ip);
    return data(
      {
        ...none,
        issued: {
          id: issued.id,
          certPem: issued.certPem,
          keyPem: issued.keyPem ?? null,
          expiresAt: issued.expiresAt.toISOString(),
        },
      },
      noStore,
    );
  }
  const created = await ingest.create(session, label, context.ip);
  return data({ ...none, created }, noStore);
});

export default function IngestCredentials() {
  const t = useT();
  const { credentials, certificates, journal } = useLoaderData<typeof loader>();
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
      {result?.issued && (
        <div className="notice" role="status" data-testid="ingest-certificate">
          <p>
            {t(result.issued.keyPem ? 'ingest.issuedWithKey' : 'ingest.issued', {
              at: dateTime(t.lang, result.issued.expiresAt),
            })}
          </p>
          <p>
            <a href={`/settings/ingest/${result.issued.id}/certificate`} download>
              {t('ingest.downloadCertificate')}
            </a>
          </p>
          {result.issued.keyPem && (
            <label>
              {t('ingest.privateKey')}
              <textarea readOnly rows={6} value={result.issued.keyPem} data-testid="ingest-key" />
            </label>
          )}
        </div>
      )}
      {result?.revoked && <Alert kind="notice">{t('ingest.revoked')}</Alert>}
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('ingest.label')}</th>
            <th scope="col">{t('ingest.kind')}</th>
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
                {c.kind === 'certificate' ? (
                  <>
                    <a href={`/settings/ingest/${c.id}/certificate`} download>
                      {t('ingest.kind.certificate')}
                    </a>
                    {c.expiresAt && (
                      <>
                        {' · '}
                        {t('ingest.expires', { at: dateTime(t.lang, c.expiresAt) })}
                      </>
                    )}
                  </>
                ) : (
                  t('ingest.kind.password')
                )}
              </td>
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
        <fieldset>
          <legend>{t('ingest.kind')}</legend>
          <label>
            <input type="radio" name="kind" value="password" defaultChecked />{' '}
            {t('ingest.kind.password')}
          </label>
          {certificates && (
            <label>
              <input type="radio" name="kind" value="certificate" /> {t('ingest.kind.certificate')}
            </label>
          )}
        </fieldset>
        {certificates && (
          <label>
            {t('ingest.csr')}
            <textarea name="csr" rows={6} maxLength={16384} />
          </label>
        )}
        <Submit>{t('ingest.create')}</Submit>
      </form>

      <h2 id="journal">{t('journal.title')}</h2>
      <p>{t('journal.intro', { domain: journal.domain })}</p>
      {result?.journalAddress && (
        <div className="notice" role="status" data-testid="journal-created">
          <p>{t('journal.createdOnce')}</p>
          <p>
            <code data-testid="journal-address">{result.journalAddress}</code>
          </p>
        </div>
      )}
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('ingest.label')}</th>
            <th scope="col">{t('journal.address')}</th>
            <th scope="col">{t('ingest.created')}</th>
            <th scope="col">{t('ingest.state')}</th>
          </tr>
        </thead>
        <tbody>
          {journal.addresses.map((a) => (
            <tr key={a.id} data-testid="journal-row">
              <td>{a.label}</td>
              <td>
                <code>{a.shown}</code>
              </td>
              <td>
                {dateTime(t.lang, a.createdAt)} · {a.createdBy}
              </td>
              <td>
                {a.revokedAt ? (
                  t('ingest.revokedAt', { at: dateTime(t.lang, a.revokedAt) })
                ) : (
                  <form method="post">
                    <input type="hidden" name="intent" value="journal-revoke" />
                    <input type="hidden" name="address" value={a.id} />
                    <button type="submit" aria-label={t('journal.revokeOne', { label: a.label })}>
                      {t('ingest.revoke')}
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post">
        <input type="hidden" name="intent" value="journal-create" />
        <Field label={t('journal.label')} name="label" />
        <Submit>{t('journal.create')}</Submit>
      </form>
      <h3>{t('journal.dkimTitle')}</h3>
      <form method="post">
        <input type="hidden" name="intent" value="journal-dkim" />
        <Field
          label={t('journal.dkimDomains')}
          name="domains"
          defaultValue={journal.dkimDomains.join(', ')}
          required={false}
        />
        <Submit>{t('journal.dkimSave')}</Submit>
      </form>
    </div>
  );
}
