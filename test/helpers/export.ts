import { randomUUID } from 'node:crypto';
import type { GrantRef } from '../../contracts/grant';
import type { Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { lock, unlock } from '../../lib/vault';
import { issueGrant } from '../../lib/vault/grants';
import { PASSWORD } from './archive';
import { FAST_ARGON2 } from './ledger';

/**
 * An export as the portal records it before starting its workflow: the user's session unlocked
 * just long enough to issue the export's decryption grant, and the export's row.
 */
export async function exportUnderGrant(
  db: Db,
  who: { tenantId: string; email: string },
  includePdfs: boolean,
): Promise<{ exportId: string; grant: GrantRef }> {
  const session = await unlock(db, { ...who, password: PASSWORD, argon2: FAST_ARGON2 });
  const issued = await issueGrant(db, session, { purpose: 'export', ttlMs: 3_600_000 });
  const exportId = randomUUID();
  await withTenant(db, who.tenantId, (tx) =>
    tx
      .insertInto('exports')
      .values({
        id: exportId,
        tenant_id: who.tenantId,
        created_by: session.userId,
        format: 'eml',
        include_pdfs: includePdfs,
        total: null,
        error: null,
        finished_at: null,
        expires_at: null,
      })
      .execute(),
  );
  lock(session);
  return {
    exportId,
    grant: { tenantId: who.tenantId, grantId: issued.grantId, grantKey: issued.grantKey },
  };
}
