import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { issueGrant, type GrantPurpose, type IssuedGrant } from '../vault/grants';
import { lock } from '../vault/session';
import { unlockedKeys, type SessionInfo } from './sessions';

/**
 * A decryption grant for a background job, issued from a portal session's unlocked keys; the
 * keys are zeroed again at once, whatever happens.
 */
export async function grantFromSession(
  db: Db,
  session: SessionInfo,
  cookie: string,
  o: { purpose: GrantPurpose; ttlMs: number },
): Promise<IssuedGrant> {
  const unlocked = await withTenant(db, session.tenantId, (tx) =>
    unlockedKeys(tx, session, cookie),
  );
  try {
    return await issueGrant(db, unlocked, o);
  } finally {
    lock(unlocked);
  }
}
