import { auditLedgerKeyCreated } from '../../lib/audit/ledger-keys';
import { createHash } from 'node:crypto';
import type { Db } from '../../lib/db';
import { AppendBatcher } from '../../lib/ledger/append-batcher';
import { verifyLog } from '../../lib/ledger/verify-log';
import { tenantWithLog } from '../helpers/ledger';
import { ownDatabase } from '../helpers/own-database';
import { stackConfig } from '../helpers/stack-env';

const cfg = stackConfig();
// Its own database: the stack's schedule would anchor these tenants' audit heads meanwhile.
const own = ownDatabase(cfg, 'batch', 6);
let db: Db;
beforeAll(() => {
  db = own.db();
});

describe('append batcher', () => {
  it('sequences concurrent appends of several tenants in batches: contiguous, deduplicated, durable', async () => {
    const tenants = await Promise.all(
      [1, 2, 3].map((n) => tenantWithLog(db, cfg, `Batch ${n} GmbH`)),
    );
    const batcher = new AppendBatcher(
      db,
      {
        wrapKey: Buffer.from(cfg.LEDGER_KEY_WRAP_KEY, 'base64'),
        originPrefix: cfg.LEDGER_ORIGIN,
        onKeyCreated: auditLedgerKeyCreated,
      },
      { maxBatch: 100 },
    );
    const hash = (t: number, i: number) => createHash('sha256').update(`${t}/${i}`).digest();
    // 3 tenants × 400 entries, each appended twice, all at once.
    const calls = tenants.flatMap((t, ti) =>
      Array.from({ length: 800 }, (_, k) => ({ t, ti, i: k % 400 })),
    );
    const results = await Promise.all(
      calls.map((c) =>
        batcher
          .append(c.t.tenantId, hash(c.ti, c.i), 'mail')
          .then((r) => ({ ...c, index: r.index })),
      ),
    );
    for (const [ti, t] of tenants.entries()) {
      const mine = results.filter((r) => r.ti === ti);
      const byEntry = new Map<number, Set<number>>();
      for (const r of mine) byEntry.set(r.i, (byEntry.get(r.i) ?? new Set()).add(r.index));
      expect([...byEntry.values()].every((s) => s.size === 1)).toBe(true);
      expect([...byEntry.values()].map((s) => [...s][0]!).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 400 }, (_, k) => k),
      );
      const row = await db
        .selectFrom('ledger_logs')
        .select('size')
        .where('id', '=', t.log.id)
        .executeTakeFirstOrThrow();
      expect(row.size).toBe(400);
      expect((await verifyLog(db, t.log.id)).problems).toEqual([]);
    }
  });
});
