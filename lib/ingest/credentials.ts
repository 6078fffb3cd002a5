import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { sql, type Insertable } from 'kysely';
import { recordAudit, type Actor } from '../audit/record';
import type { Database, Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { InputError, isUuid } from '../input/input-error';
import { formText } from '../input/text';
import { credentialIdOf, issueClientCertificate, type IngestCa } from './ingest-ca';

/**
 * Ingest credentials (issue 17 §1): what a mail server presents over LMTP so that only a tenant's
 * own servers deliver into its archive. Two kinds: a client certificate from the deployment's
 * ingest CA (common name = the credential's id, pinned by its SHA-256), and SASL PLAIN, whose user
 * name is the credential's id and whose secret is 256 random bits, shown once and stored as its
 * SHA-256 (a fast hash is enough for a secret that cannot be guessed). A tenant credential delivers to that
 * tenant's ingest addresses only; an operator credential (no tenant) belongs to a relay the
 * operator runs for many tenants. Creation and revocation are audited in the tenant's log.
 */

export class IngestCredentialError extends InputError {
  override name = 'IngestCredentialError';
}

/** Who a delivering session is: the credential and the tenant it is confined to (null: any). */
export interface IngestIdentity {
  credentialId: string;
  tenantId: string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

const credentialLabel = (label: string) =>
  formText(label, { field: 'label', max: 200, required: true, missing: 'ingest.error.label' });

export async function createPasswordCredential(
  db: Db,
  input: { tenantId: string | null; label: string; actor: Actor; createdBy: string; ip?: string },
): Promise<{ id: string; secret: string }> {
  const label = credentialLabel(input.label);
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  await insertCredential(db, input, {
    id,
    tenant_id: input.tenantId,
    kind: 'password',
    label,
    secret_sha256: sha256(secret),
    created_by: input.createdBy,
    revoked_at: null,
    certificate_pem: null,
    expires_at: null,
  });
  return { id, secret };
}

type NewCredential = Insertable<Database['ingest_credentials']>;

/** Stores a new credential; a tenant's is audited in its log in the same transaction. */
async function insertCredential(
  db: Db,
  input: { tenantId: string | null; actor: Actor; ip?: string },
  row: NewCredential & { id: string; label: string },
): Promise<void> {
  if (input.tenantId === null) {
    // An operator's relay: no tenant's log to write to; the operator's own tooling records it.
    await db.insertInto('ingest_credentials').values(row).execute();
    return;
  }
  const tenantId = input.tenantId;
  await withTenant(db, tenantId, async (tx) => {
    await tx.insertInto('ingest_credentials').values(row).execute();
    await recordAudit(tx, tenantId, {
      action: 'ingest_credential.created',
      actor: input.actor,
      ip: input.ip,
      target: { type: 'ingest-credential', id: row.id },
      details: {
        kind: row.kind,
        label: row.label,
        ...(row.expires_at ? { expiresAt: new Date(row.expires_at).toISOString() } : {}),
      },
    });
  });
}

/**
 * A client-certificate credential issued by the deployment's ingest CA: for the key in `csrPem`,
 * or for a key pair generated here and returned once (never stored). The certificate itself is
 * public and kept, so it can be downloaded again.
 */
export async function createCertificateCredential(
  db: Db,
  ca: IngestCa,
  input: {
    tenantId: string | null;
    label: string;
    actor: Actor;
    createdBy: string;
    ip?: string;
    csrPem?: string;
    validDays: number;
  },
): Promise<{ id: string; certPem: string; keyPem?: string; expiresAt: Date }> {
  const label = credentialLabel(input.label);
  const id = randomUUID();
  const cert = await issueClientCertificate(ca, {
    credentialId: id,
    validDays: input.validDays,
    csrPem: input.csrPem?.trim() ? input.csrPem : undefined,
  });
  await insertCredential(db, input, {
    id,
    tenant_id: input.tenantId,
    kind: 'certificate',
    label,
    secret_sha256: cert.fingerprint,
    created_by: input.createdBy,
    revoked_at: null,
    certificate_pem: cert.certPem,
    expires_at: cert.notAfter,
  });
  return { id, certPem: cert.certPem, keyPem: cert.keyPem, expiresAt: cert.notAfter };
}

export async function revokeCredential(
  db: Db,
  input: { tenantId: string | null; credentialId: string; actor: Actor; ip?: string },
): Promise<void> {
  if (!isUuid(input.credentialId)) throw new IngestCredentialError('ingest.error.unknown');
  const revoke = (q: Pick<Db, 'updateTable'>) =>
    q
      .updateTable('ingest_credentials')
      .set({ revoked_at: new Date() })
      .where('id', '=', input.credentialId)
      .where('revoked_at', 'is', null)
      .returning('label')
      .executeTakeFirst();
  if (input.tenantId === null) {
    if (!(await revoke(db))) throw new IngestCredentialError('ingest.error.unknown');
    return;
  }
  const tenantId = input.tenantId;
  await withTenant(db, tenantId, async (tx) => {
    const r = await revoke(tx);
    if (!r) throw new IngestCredentialError('ingest.error.unknown');
    await recordAudit(tx, tenantId, {
      action: 'ingest_credential.revoked',
      actor: input.actor,
      ip: input.ip,
      target: { type: 'ingest-credential', id: input.credentialId },
      details: { label: r.label },
    });
  });
}

export async function listCredentials(db: Db, tenantId: string) {
  return withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('ingest_credentials')
      .select(['id', 'kind', 'label', 'created_at', 'created_by', 'revoked_at', 'expires_at'])
      .where('tenant_id', '=', tenantId)
      .orderBy('created_at')
      .execute(),
  );
}

/** A credential's certificate (public), for downloading it again. */
export async function credentialCertificate(
  db: Db,
  tenantId: string,
  credentialId: string,
): Promise<string | undefined> {
  if (!isUuid(credentialId)) return undefined;
  const row = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('ingest_credentials')
      .select('certificate_pem')
      .where('id', '=', credentialId)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst(),
  );
  return row?.certificate_pem ?? undefined;
}

type CredentialRow = {
  tenant_id: string | null;
  kind: string;
  secret_sha256: Buffer | null;
  revoked: boolean;
};

const lookup = async (db: Db, id: string): Promise<CredentialRow | undefined> =>
  isUuid(id)
    ? (await sql<CredentialRow>`SELECT * FROM ingest_credential(${id})`.execute(db)).rows[0]
    : undefined;

/**
 * Checks a client certificate the TLS layer has already verified against the ingest CA (chain
 * and validity period): the identity when it is exactly the certificate issued for a live
 * certificate credential, else undefined.
 */
export async function checkCertificateCredential(
  db: Db,
  der: Buffer,
): Promise<IngestIdentity | undefined> {
  const id = credentialIdOf(der);
  const row = id ? await lookup(db, id) : undefined;
  const pinned = row?.secret_sha256 ?? Buffer.alloc(32);
  const same = timingSafeEqual(pinned, createHash('sha256').update(der).digest());
  if (!id || !row || row.kind !== 'certificate' || row.revoked || !same) return undefined;
  return { credentialId: id, tenantId: row.tenant_id };
}

/**
 * Checks a SASL PLAIN login: the identity for a live credential with this secret, else
 * undefined. The same work is done for unknown ids, so timing does not tell ids apart.
 */
export async function checkPasswordCredential(
  db: Db,
  username: string,
  secret: string,
): Promise<IngestIdentity | undefined> {
  const given = sha256(secret);
  const row = await lookup(db, username);
  const stored = row?.secret_sha256 ?? Buffer.alloc(32);
  const same = timingSafeEqual(stored, given);
  if (!row || row.kind !== 'password' || row.revoked || !same) return undefined;
  return { credentialId: username, tenantId: row.tenant_id };
}
