import type { Db } from '../../lib/db';
import { createTenant, unlock } from '../../lib/vault';
import { FAST_ARGON2 } from './ledger';

export const TEST_PASSWORD = 'ein langes Passwort';

/** A new tenant named `name` and its admin's unlocked keys (admin@<name>.example). */
export async function unlockedTenant(db: Db, name: string) {
  const email = `admin@${name.toLowerCase()}.example`;
  const t = await createTenant(db, {
    name,
    admin: { email, password: TEST_PASSWORD },
    argon2: FAST_ARGON2,
  });
  const session = await unlock(db, {
    tenantId: t.tenantId,
    email,
    password: TEST_PASSWORD,
    argon2: FAST_ARGON2,
  });
  return { ...t, email, session };
}
