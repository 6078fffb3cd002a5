import { auditLedgerKeyCreated } from '../../lib/audit/ledger-keys';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createDb, type Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { checkpointRound } from '../../lib/checkpoint/round';
import { appendEntry, integrateLog } from '../../lib/ledger/store';
import type { KyselyPlugin } from 'kysely';
import { verifyLog } from '../../lib/ledger/verify-log';
import { tenantWithLog } from '../helpers/ledger';
import { stackConfig, stackTsas } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

const cfg = stackConfig();
const wrapKey = Buffer.from(cfg.LEDGER_KEY_WRAP_KEY, 'base64');
const bin = path.resolve(__dirname, '../../bin/mailrepo.cjs');
let db: Db;
// Tampering is done as the database administrator: the service role the code runs as may not
// change a ledger entry or tile (it sees none outside a tenant, and no tenant may update them).
let dba: Db;
beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 4);
  dba = adminDb(cfg);
});
afterAll(async () => {
  await db.destroy();
  await dba.destroy();
});

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    env: process.env,
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('whole-log verification', () => {
  it('passes an intact log and names the first bad index after tampering in PostgreSQL', async () => {
    const { tenantId, log } = await tenantWithLog(db, cfg, 'Prüfung GmbH');
    await withTenant(db, tenantId, async (tx) => {
      for (let i = 0; i < 300; i++) await appendEntry(tx, log, randomBytes(32), 'mail');
    });
    const tsa = stackTsas(cfg);
    const round = {
      db,
      wrapKey,
      originPrefix: cfg.LEDGER_ORIGIN,
      onKeyCreated: auditLedgerKeyCreated,
      tsa,
    };
    await checkpointRound(round);
    await withTenant(db, tenantId, async (tx) => {
      for (let i = 0; i < 300; i++) await appendEntry(tx, log, randomBytes(32), 'mail');
    });
    await checkpointRound(round);

    const clean = await verifyLog(db, log.id);
    expect(clean.problems).toEqual([]);
    // 600 mails, and the tenant's audit chain head(s) anchored by the checkpoint rounds.
    const heads = await db
      .selectFrom('ledger_entries')
      .select((e) => e.fn.countAll<string>().as('n'))
      .where('log_id', '=', log.id)
      .where('kind', '=', 'audit-head')
      .executeTakeFirstOrThrow();
    expect(Number(heads.n)).toBeGreaterThanOrEqual(1);
    expect(clean).toMatchObject({ size: 600 + Number(heads.n) });
    expect(clean.checkpoints).toBeGreaterThanOrEqual(2);
    const ok = cli('ledger', 'verify', '--tenant', tenantId);
    expect(ok.stdout).toMatch(/OK: tiles, roots, checkpoint signatures/);
    expect(ok.status).toBe(0);

    // A changed leaf (an entry's hash rewritten in the database).
    const original = await db
      .selectFrom('ledger_entries')
      .select('entry_hash')
      .where('log_id', '=', log.id)
      .where('idx', '=', 417)
      .executeTakeFirstOrThrow();
    await dba
      .updateTable('ledger_entries')
      .set({ entry_hash: randomBytes(32) })
      .where('log_id', '=', log.id)
      .where('idx', '=', 417)
      .execute();
    const leaf = await verifyLog(db, log.id);
    expect(leaf.problems[0]).toMatchObject({ at: 417 });
    const bad = cli('ledger', 'verify', '--tenant', tenantId);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/FAILED at index 417/);
    await dba
      .updateTable('ledger_entries')
      .set({ entry_hash: original.entry_hash })
      .where('log_id', '=', log.id)
      .where('idx', '=', 417)
      .execute();
    expect((await verifyLog(db, log.id)).problems).toEqual([]);

    // A changed interior hash (a tile rewritten directly): hash 5 of level-0 tile 1 is leaf 261.
    const tile = await db
      .selectFrom('ledger_tiles')
      .select('hashes')
      .where('log_id', '=', log.id)
      .where('level', '=', 0)
      .where('tile_index', '=', 1)
      .executeTakeFirstOrThrow();
    const forged = Buffer.from(tile.hashes);
    forged[5 * 32]! ^= 0x01;
    await dba
      .updateTable('ledger_tiles')
      .set({ hashes: forged })
      .where('log_id', '=', log.id)
      .where('level', '=', 0)
      .where('tile_index', '=', 1)
      .execute();
    const tiled = await verifyLog(db, log.id);
    expect(tiled.problems[0]).toMatchObject({ at: 261 });
    expect(tiled.problems[0]!.what).toMatch(/tile \(0, 1\)/);
  }, 60_000);

  it('reads one snapshot: an integration committed while it reads is not a problem', async () => {
    const { tenantId, log } = await tenantWithLog(db, cfg, 'Laufend GmbH');
    const grow = (n: number) =>
      withTenant(db, tenantId, async (tx) => {
        for (let i = 0; i < n; i++) await appendEntry(tx, log, randomBytes(32), 'mail');
        await integrateLog(tx, log);
      });
    await grow(40);
    // Right after the verification has read the log's size, another connection appends and
    // integrates more entries — what the ledger batcher does every few seconds on a live archive.
    let interleaved = false;
    let seen = -1;
    const between: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        const row = args.result.rows[0] as { integrated_size?: unknown } | undefined;
        if (!interleaved && row && 'integrated_size' in row) {
          interleaved = true;
          seen = Number(row.integrated_size);
          await grow(7);
        }
        return args.result;
      },
    };
    const report = await verifyLog(
      Object.assign(db.withPlugin(between), { shredKeys: db.shredKeys }),
      log.id,
    );
    expect(interleaved).toBe(true);
    // (The checkpointer may anchor the tenant's audit heads in its log meanwhile: sizes vary.)
    expect(seen).toBeGreaterThanOrEqual(40);
    expect(report).toMatchObject({ size: seen, problems: [] });
    const after = await verifyLog(db, log.id);
    expect(after.problems).toEqual([]);
    expect(after.size).toBeGreaterThanOrEqual(seen + 7);
  }, 60_000);
});
