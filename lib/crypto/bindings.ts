import type { Binding } from './context';

/** The associated data of every key the vault stores: which tenant, which holder, which version. */
export const bind = {
  userKey: (tenant: string, userId: string): Binding => ({
    tenant,
    message: userId,
    purpose: 'user-private-key',
  }),
  userKeyRecovery: (tenant: string, userId: string): Binding => ({
    tenant,
    message: userId,
    purpose: 'user-private-key-recovery',
  }),
  /** The user's private key under a key from passkey `credential`'s PRF output. */
  userKeyPasskey: (tenant: string, userId: string, credential: string): Binding => ({
    tenant,
    message: `${userId}.${credential}`,
    purpose: 'user-private-key-passkey',
  }),
  tenantGrant: (tenant: string, keyVersion: number, userId: string): Binding => ({
    tenant,
    message: `v${keyVersion}.${userId}`,
    purpose: 'tenant-private-key',
  }),
  epochKey: (tenant: string, epochId: string, tenantKeyVersion: number): Binding => ({
    tenant,
    epoch: epochId,
    message: `v${tenantKeyVersion}`,
    purpose: 'epoch-private-key',
  }),
  /** An epoch's shred key, wrapped in the shred-key vault under VAULT_KEY_WRAP_KEY. */
  shredKey: (tenant: string, epochId: string): Binding => ({
    tenant,
    epoch: epochId,
    purpose: 'epoch-shred-key',
  }),
  /** The outer layer of a sealed epoch private key, under the epoch's shred key. */
  epochShredLayer: (tenant: string, epochId: string, tenantKeyVersion: number): Binding => ({
    tenant,
    epoch: epochId,
    message: `v${tenantKeyVersion}`,
    purpose: 'epoch-shred-layer',
  }),
  indexKey: (tenant: string, epochId: string): Binding => ({
    tenant,
    epoch: epochId,
    purpose: 'epoch-index-key',
  }),
  mailDek: (tenant: string, epochId: string, messageId: string): Binding => ({
    tenant,
    epoch: epochId,
    message: messageId,
    purpose: 'mail-dek',
  }),
  mailBody: (tenant: string, epochId: string, messageId: string): Binding => ({
    tenant,
    epoch: epochId,
    message: messageId,
    purpose: 'mail-body',
  }),
  /** Metadata, search tokens and attachment text of a mail: under its DEK, bound to their purpose. */
  mailPart: (
    tenant: string,
    epochId: string,
    messageId: string,
    part: 'mail-metadata' | 'mail-tokens' | 'mail-extracted',
  ): Binding => ({ tenant, epoch: epochId, message: messageId, purpose: part }),
  /** The tenant key a decryption grant carries, wrapped under the grant key. */
  decryptionGrant: (tenant: string, grantId: string): Binding => ({
    tenant,
    message: grantId,
    purpose: 'decryption-grant',
  }),
  /** An uploaded import file, encrypted on arrival under a key held by the import workflow. */
  importUpload: (tenant: string, importId: string): Binding => ({
    tenant,
    message: importId,
    purpose: 'import-upload',
  }),
  /** One encrypted search index segment, under the epoch's index key. */
  indexSegment: (tenant: string, epochId: string, segmentId: string): Binding => ({
    tenant,
    epoch: epochId,
    message: segmentId,
    purpose: 'index-segment',
  }),
  /** The SMTP envelope of one delivery (duplicates included), sealed to the epoch key. */
  receiptEnvelope: (tenant: string, epochId: string, receiptId: string): Binding => ({
    tenant,
    epoch: epochId,
    message: receiptId,
    purpose: 'receipt-envelope',
  }),
  /** A portal session's unlocked keys, wrapped under the key carried only in its cookie. */
  sessionKeys: (tenant: string, sessionIdHash: string): Binding => ({
    tenant,
    message: sessionIdHash,
    purpose: 'session-keys',
  }),
  /** A user's TOTP secret, sealed to their public key: readable only after the password step. */
  totpSecret: (tenant: string, userId: string): Binding => ({
    tenant,
    message: userId,
    purpose: 'totp-secret',
  }),
  /** The tenant key held for an invitee, sealed to a key pair derived from the invitation token. */
  inviteGrant: (tenant: string, inviteId: string, keyVersion: number): Binding => ({
    tenant,
    message: `v${keyVersion}.${inviteId}`,
    purpose: 'invite-tenant-key',
  }),
};
