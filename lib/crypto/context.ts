import { utf8 } from './bytes';

/**
 * What a ciphertext is bound to. Every AEAD/HPKE call includes this as associated data, so no blob
 * can be moved to another tenant, epoch, message or purpose (DESIGN §4).
 */
export type Purpose =
  | 'mail-body'
  | 'mail-dek'
  | 'mail-tokens'
  | 'mail-metadata'
  | 'mail-extracted'
  | 'receipt-envelope'
  | 'user-private-key'
  | 'user-private-key-recovery'
  | 'user-private-key-passkey'
  | 'tenant-private-key'
  | 'epoch-private-key'
  | 'epoch-index-key'
  | 'epoch-shred-key'
  | 'epoch-shred-layer'
  | 'ledger-signing-key'
  | 'audit-private-key'
  | 'audit-details'
  | 'session-keys'
  | 'totp-secret'
  | 'invite-tenant-key'
  | 'index-segment'
  | 'decryption-grant'
  | 'import-upload'
  | 'sso-client-secret';

export interface Binding {
  tenant: string;
  /** Epoch id, or '-' where no epoch applies (user and tenant keys). */
  epoch?: string;
  /** Message id, user id or key version: whatever this blob belongs to. */
  message?: string;
  purpose: Purpose;
}

const FIELD = /^[A-Za-z0-9._:@+-]*$/;

/** `mailrepo/v1|tenant|epoch|message|purpose`; fields may not contain the separator. */
export function bindingBytes(b: Binding): Buffer {
  const fields = [b.tenant, b.epoch ?? '-', b.message ?? '-', b.purpose];
  for (const f of fields)
    if (!FIELD.test(f)) throw new Error('binding fields may contain only [A-Za-z0-9._:@+-]');
  return utf8(`mailrepo/v1|${fields.join('|')}`);
}
