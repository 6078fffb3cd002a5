import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { BlockCache } from '../search/block-cache';
import { mergeAll } from '../search/index-store';
import { openIndex } from '../search/tenant-index';
import { parseQuery } from '../search/query';
import type { EpochKeyring } from '../vault/epoch-keyring';
import type { TenantKeys } from '../vault/session';

/**
 * Chooses an export's mails once (oldest first) and numbers them, so every part is a fixed range
 * and a retried part writes the same file. Runs under the export's decryption grant: the search
 * runs over the decrypted index, like the portal's. A phrase is matched as its words here (the
 * bodies are not read to check word order). Idempotent: a retry finds the numbered list.
 */
const EXPORT_CACHE_BYTES = 64 * 1024 * 1024;

export async function prepareExport(
  db: Db,
  keys: TenantKeys,
  keyring: Pick<EpochKeyring, 'get'>,
  input: { exportId: string; query: string; mailboxes?: string[] },
): Promise<number> {
  const existing = await withTenant(db, keys.tenantId, (tx) =>
    tx
      .selectFrom('exports')
      .select('total')
      .where('id', '=', input.exportId)
      .executeTakeFirstOrThrow(),
  );
  if (existing.total !== null) return existing.total;
  // Mails archived but not yet indexed are exported too.
  await mergeAll(db, keys, keyring);
  // A cache of its own, dropped with the job: the export reads each block once.
  const index = await openIndex(db, keys.tenantId, keyring, new BlockCache(EXPORT_CACHE_BYTES));
  const hits = await index.ids(parseQuery(input.query), {
    sort: 'oldest',
    mailboxes: input.mailboxes,
  });
  await withTenant(db, keys.tenantId, async (tx) => {
    for (let i = 0; i < hits.length; i += 1000)
      await tx
        .insertInto('export_items')
        .values(
          hits.slice(i, i + 1000).map((d, k) => ({
            export_id: input.exportId,
            tenant_id: keys.tenantId,
            position: i + k,
            message_id: d,
          })),
        )
        .execute();
    await tx
      .updateTable('exports')
      .set({ total: hits.length })
      .where('id', '=', input.exportId)
      .execute();
  });
  return hits.length;
}
