import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { recordAudit, type Actor } from '../audit/record';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { InputError, isUuid } from '../input/input-error';
import { formText } from '../input/text';

/**
 * Ingest credentials (issue 17 §1): what a mail server presents over LMTP so that only a tenant's
 * own servers deliver into its archive. This module has SASL PLAIN credentials: the user name is
 * the credential's id, the secret 256 random bits, shown once and stored as its SHA-256 (a fast
 * hash is enough for a secret that cannot be guessed). A tenant credential delivers to that
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

export async function createPasswordCredential(
  db: Db,
  input: { tenantId: string | null; label: string; actor: Actor; createdBy: string; ip?: string },
): Promise<{ id: string; secret: string }> {
  const label = formText(input.label, {
    field: 'label',
    max: 200,
    required: true,
    missing: 'ingest.error.label',
  });
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  const row = {
    id,
    tenant_id: input.tenantId,
    kind: 'password' as const,
    label,
    secret_sha256: sha256(secret),
    created_by: input.createdBy,
    revoked_at: null,
  };
  if (input.tenantId === null) {
    // An operator's relay: no tenant's log to write to; the operator's own tooling records it.
    await db.insertInto('ingest_credentials').values(row).execute();
  } else {
    const tenantId = input.tenantId;
    await withTenant(db, tenantId, async (tx) => {
      await tx.insertInto('ingest_credentials').values(row).execute();
      await recordAudit(tx, tenantId, {
        action: 'ingest_credential.created',
        actor: input.actor,
        ip: input.ip,
        target: { type: 'ingest-credential', id },
        details: { kind: 'password', label },
      });
    });
  }
  return { id, secret };
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
      .select(['id', 'kind', 'label', 'created_at', 'created_by', 'revoked_at'])
      .where('tenant_id', '=', tenantId)
      .orderBy('created_at')
      .execute(),
  );
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
  const row = isUuid(username)
    ? (
        await sql<{
          tenant_id: string | null;
          kind: string;
          secret_sha256: Buffer | null;
          revoked: boolean;
        }>`SELECT * FROM ingest_credential(${username})`.execute(db)
      ).rows[0]
    : undefined;
  const stored = row?.secret_sha256 ?? Buffer.alloc(32);
  const same = timingSafeEqual(stored, given);
  if (!row || row.kind !== 'password' || row.revoked || !same) return undefined;
  return { credentialId: username, tenantId: row.tenant_id };
}
