import { auditLedgerKeyCreated } from '../../lib/audit/ledger-keys';
import type { Config } from '../../lib/config';
import type { Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { ensureLog, type LogRef } from '../../lib/ledger/store';
import { createTenant } from '../../lib/vault';

export const FAST_ARGON2 = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 };

/** A fresh tenant (fast Argon2 parameters) with its ledger log. */
export async function tenantWithLog(
  db: Db,
  cfg: Config,
  name = 'Ledger GmbH',
): Promise<{ tenantId: string; log: LogRef }> {
  const { tenantId } = await createTenant(db, {
    name,
    admin: { email: 'admin@ledger.example', password: 'ein langes Passwort' },
    argon2: FAST_ARGON2,
  });
  const wrapKey = Buffer.from(cfg.LEDGER_KEY_WRAP_KEY, 'base64');
  const log = await withTenant(db, tenantId, (tx) =>
    ensureLog(tx, {
      tenantId,
      originPrefix: cfg.LEDGER_ORIGIN,
      onKeyCreated: auditLedgerKeyCreated,
      wrapKey,
    }),
  );
  return { tenantId, log };
}
