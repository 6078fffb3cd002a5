import { ApplicationFailure } from '@temporalio/activity';
import { zeroize } from '../lib/crypto/bytes';
import type { Db } from '../lib/db';
import { EpochKeyring } from '../lib/vault/epoch-keyring';
import { GrantUnavailableError, openGrant, type GrantPurpose } from '../lib/vault/grants';
import type { TenantKeys } from '../lib/vault/session';
import type { GrantRef } from '../contracts/grant';

/** A decryption grant as a workflow hands it to its activities. */
export type { GrantRef };

/**
 * Runs `fn` with the tenant key a grant carries and an epoch keyring; zeroes both afterwards. A
 * destroyed or expired grant fails the activity for good (retrying cannot bring it back).
 */
export async function withGrant<T>(
  db: Db,
  grant: GrantRef,
  purpose: GrantPurpose,
  fn: (keys: TenantKeys, keyring: EpochKeyring) => Promise<T>,
): Promise<T> {
  let keys: TenantKeys;
  try {
    keys = await openGrant(db, { ...grant, purpose });
  } catch (e) {
    if (e instanceof GrantUnavailableError)
      throw ApplicationFailure.nonRetryable(e.message, 'GrantUnavailable');
    throw e;
  }
  const keyring = new EpochKeyring(db, keys);
  try {
    return await fn(keys, keyring);
  } finally {
    keyring.dispose();
    zeroize(keys.tenantPrivateKey);
  }
}
