import { zeroize } from '../crypto/bytes';
import type { Role } from '../db/schema';

/**
 * Key material of an unlocked user: their private key and the tenant private key. Lives only in
 * process memory (the portal issue adds sealing it into the session row under a cookie key).
 */
export interface UnlockedSession {
  tenantId: string;
  userId: string;
  role: Role;
  userPrivateKey: Buffer;
  tenantPrivateKey: Buffer;
  tenantKeyVersion: number;
}

/** The part of an unlocked session a background job holds through a grant: the tenant key. */
export type TenantKeys = Pick<
  UnlockedSession,
  'tenantId' | 'tenantPrivateKey' | 'tenantKeyVersion'
>;

export function lock(session: UnlockedSession): void {
  zeroize(session.userPrivateKey, session.tenantPrivateKey);
}

export class VaultError extends Error {
  override name = 'VaultError';
}

export function requireAdmin(session: UnlockedSession, tenantId: string): void {
  if (session.tenantId !== tenantId) throw new VaultError('session belongs to another tenant');
  if (session.role !== 'admin' && session.role !== 'owner')
    throw new VaultError('this action needs an unlocked administrator');
}
