import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { recordAudit, type Actor } from '../audit/record';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { InputError, isUuid } from '../input/input-error';
import { formText } from '../input/text';

/**
 * SMTP journal addresses (issue 22 §1): Microsoft 365 and Google Workspace journal by sending a
 * copy to an external address and cannot log in, so the address itself is the credential. Its
 * local part is `j` and 256 random bits in lower-case base32 (53 characters, within SMTP's 64),
 * shown once and kept as its SHA-256. Creating and revoking are audited; revoked addresses stay
 * listed for the record. Lists show a hint (the first characters), never the address.
 */

export class JournalAddressError extends InputError {
  override name = 'JournalAddressError';
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const LOCAL_PART = /^j[a-z2-7]{52}$/;
/** Characters of the local part kept as the hint: 30 bits, nothing to deliver with. */
const HINT_LENGTH = 7;

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

const tokenHash = (localPart: string) => createHash('sha256').update(localPart, 'utf8').digest();

/** How an address appears in the mail's envelope and in lists: recognisable, not usable. */
export const journalAddressShown = (hint: string, domain: string) => `${hint}.journal@${domain}`;

export async function createJournalAddress(
  db: Db,
  input: {
    tenantId: string;
    label: string;
    domain: string;
    actor: Actor;
    createdBy: string;
    ip?: string;
  },
): Promise<{ id: string; address: string }> {
  const label = formText(input.label, {
    field: 'label',
    max: 200,
    required: true,
    missing: 'journal.error.label',
  });
  const id = randomUUID();
  const local = `j${base32(randomBytes(32))}`;
  const hint = local.slice(0, HINT_LENGTH);
  await withTenant(db, input.tenantId, async (tx) => {
    await tx
      .insertInto('journal_addresses')
      .values({
        id,
        tenant_id: input.tenantId,
        token_sha256: tokenHash(local),
        hint,
        label,
        created_by: input.createdBy,
        revoked_at: null,
      })
      .execute();
    await recordAudit(tx, input.tenantId, {
      action: 'journal_address.created',
      actor: input.actor,
      ip: input.ip,
      target: { type: 'journal-address', id },
      details: { label, hint },
    });
  });
  return { id, address: `${local}@${input.domain.toLowerCase()}` };
}

export async function revokeJournalAddress(
  db: Db,
  input: { tenantId: string; addressId: string; actor: Actor; ip?: string },
): Promise<void> {
  if (!isUuid(input.addressId)) throw new JournalAddressError('journal.error.unknown');
  await withTenant(db, input.tenantId, async (tx) => {
    const row = await tx
      .updateTable('journal_addresses')
      .set({ revoked_at: new Date() })
      .where('id', '=', input.addressId)
      .where('tenant_id', '=', input.tenantId)
      .where('revoked_at', 'is', null)
      .returning(['label', 'hint'])
      .executeTakeFirst();
    if (!row) throw new JournalAddressError('journal.error.unknown');
    await recordAudit(tx, input.tenantId, {
      action: 'journal_address.revoked',
      actor: input.actor,
      ip: input.ip,
      target: { type: 'journal-address', id: input.addressId },
      details: { label: row.label, hint: row.hint },
    });
  });
}

export async function listJournalAddresses(db: Db, tenantId: string) {
  return withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('journal_addresses')
      .select(['id', 'hint', 'label', 'created_at', 'created_by', 'revoked_at'])
      .where('tenant_id', '=', tenantId)
      .orderBy('created_at')
      .execute(),
  );
}

export interface JournalRecipient {
  tenantId: string;
  addressId: string;
  /** What the envelope records instead of the secret address. */
  shown: string;
}

/**
 * The live journal address a recipient names, if any: only on `domain` (the deployment's journal
 * domain), with a well-formed local part. Unknown and revoked addresses look alike.
 */
export async function resolveJournalAddress(
  db: Db,
  recipient: string,
  domain: string,
): Promise<JournalRecipient | undefined> {
  const at = recipient.lastIndexOf('@');
  const local = recipient.slice(0, at).toLowerCase();
  if (at < 0 || recipient.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return undefined;
  if (!LOCAL_PART.test(local)) return undefined;
  const r = await sql<{ tenant_id: string; address_id: string; hint: string }>`
    SELECT * FROM journal_address(${tokenHash(local)})`.execute(db);
  const row = r.rows[0];
  return row
    ? {
        tenantId: row.tenant_id,
        addressId: row.address_id,
        shown: journalAddressShown(row.hint, domain.toLowerCase()),
      }
    : undefined;
}
