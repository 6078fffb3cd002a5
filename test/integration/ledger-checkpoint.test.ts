import { auditLedgerKeyCreated } from '../../lib/audit/ledger-keys';
import { createHash, randomBytes } from 'node:crypto';
import { tsaRootsPem } from '../../lib/config';
import { createDb, type Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { openCheckpoint } from '../../lib/ledger/checkpoint';
import { checkpointRound } from '../../lib/checkpoint/round';
import { noteHash, timestampCovering } from '../../lib/ledger/checkpointer';
import { hashLeaf, verifyInclusion } from '../../lib/ledger/merkle';
import { appendEntry, inclusionProofFor } from '../../lib/ledger/store';
import { connectTemporal } from '../../lib/temporal/client';
import { LEDGER_SCHEDULE_ID } from '../../lib/temporal/schedules';
import { tenantWithLog } from '../helpers/ledger';
import { ownDatabase } from '../helpers/own-database';
import { opensslTsVerify } from '../helpers/openssl';
import { stackConfig, stackTsas, tsaRootsFile } from '../helpers/stack-env';

const cfg = stackConfig();
const wrapKey = Buffer.from(cfg.LEDGER_KEY_WRAP_KEY, 'base64');
const caPem = () => tsaRootsPem(cfg);

const tenantLog = (db: Db) => tenantWithLog(db, cfg, 'Anker GmbH');

describe('checkpoints and timestamps', () => {
  // A database of its own: the stack's schedule checkpoints the shared one every 2 s.
  const own = ownDatabase(cfg, 'cp');
  let db: Db;
  beforeAll(() => {
    db = own.db();
  });

  it('survives a TSA outage: entries stay pending, the next round covers them', async () => {
    const { tenantId, log } = await tenantLog(db);
    const entries = Array.from({ length: 5 }, () => randomBytes(32));
    await withTenant(db, tenantId, async (tx) => {
      for (const e of entries) await appendEntry(tx, log, e, 'mail');
    });

    const down = await checkpointRound({
      db,
      wrapKey,
      originPrefix: cfg.LEDGER_ORIGIN,
      onKeyCreated: auditLedgerKeyCreated,
      tsa: { url: 'http://127.0.0.1:1/tsa', caPem: caPem(), attempts: 2, backoffMs: 10 },
    });
    expect(down).toMatchObject({ tenantCheckpoints: 1, timestamped: false });
    expect(down.tsaError).toMatch(/unreachable/);
    expect(await timestampCovering(db, log.id, 4)).toBeUndefined();

    // More mail arrives during the outage; nothing blocks it.
    await withTenant(db, tenantId, (tx) => appendEntry(tx, log, randomBytes(32), 'mail'));

    const up = await checkpointRound({
      db,
      wrapKey,
      originPrefix: cfg.LEDGER_ORIGIN,
      onKeyCreated: auditLedgerKeyCreated,
      tsa: stackTsas(cfg),
    });
    expect(up).toMatchObject({ tenantCheckpoints: 1, timestamped: true });
    const covered = (await timestampCovering(db, log.id, 5))!;
    expect(covered).toBeDefined();
    expect(covered.tenantCheckpoint.size).toBe(6);

    // The chain holds: tenant note signed by the tenant log key, its hash in the anchor log under
    // the anchor checkpoint, and the TSA token over exactly that anchor checkpoint (openssl).
    const logRow = await db
      .selectFrom('ledger_logs')
      .selectAll()
      .where('id', '=', log.id)
      .executeTakeFirstOrThrow();
    const tenantCp = openCheckpoint(covered.tenantCheckpoint.note, {
      name: logRow.origin,
      publicKey: logRow.signing_public_key,
    });
    const leafIdx = 2;
    verifyInclusion(
      hashLeaf(entries[leafIdx]!),
      leafIdx,
      tenantCp.size,
      await inclusionProofFor(db, log.id, leafIdx, tenantCp.size),
      tenantCp.root,
    );
    const anchorRow = await db
      .selectFrom('ledger_logs')
      .selectAll()
      .where('tenant_id', 'is', null)
      .executeTakeFirstOrThrow();
    const anchorCp = openCheckpoint(covered.anchorCheckpoint.note, {
      name: anchorRow.origin,
      publicKey: anchorRow.signing_public_key,
    });
    const anchorProof = await inclusionProofFor(
      db,
      anchorRow.id,
      covered.tenantCheckpoint.anchor_index!,
      anchorCp.size,
    );
    verifyInclusion(
      hashLeaf(noteHash(covered.tenantCheckpoint.note)),
      covered.tenantCheckpoint.anchor_index!,
      anchorCp.size,
      anchorProof,
      anchorCp.root,
    );
    expect(
      opensslTsVerify(
        covered.anchorCheckpoint.note,
        covered.anchorCheckpoint.tsa_response!,
        tsaRootsFile(cfg),
      ),
    ).toMatch(/Verification: OK/);
  });

  it('does nothing when no log has new entries', async () => {
    await checkpointRound({
      db,
      wrapKey,
      originPrefix: cfg.LEDGER_ORIGIN,
      onKeyCreated: auditLedgerKeyCreated,
      tsa: stackTsas(cfg),
    });
    const again = await checkpointRound({
      db,
      wrapKey,
      originPrefix: cfg.LEDGER_ORIGIN,
      onKeyCreated: auditLedgerKeyCreated,
      tsa: stackTsas(cfg),
    });
    expect(again.tenantCheckpoints).toBe(0);
    const count = await db
      .selectFrom('ledger_checkpoints')
      .select((e) => e.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const again2 = await checkpointRound({
      db,
      wrapKey,
      originPrefix: cfg.LEDGER_ORIGIN,
      onKeyCreated: auditLedgerKeyCreated,
      tsa: stackTsas(cfg),
    });
    expect(again2.tenantCheckpoints).toBe(0);
    expect(
      await db
        .selectFrom('ledger_checkpoints')
        .select((e) => e.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ).toEqual(count);
  });
});

describe('ledgerCheckpoint schedule on the real worker', () => {
  let db: Db;
  beforeAll(() => {
    db = createDb(cfg.DATABASE_URL, 2);
  });
  afterAll(() => db.destroy());

  it('is registered, and timestamps a new entry within a few rounds', async () => {
    const client = await connectTemporal(cfg);
    try {
      const desc = await client.schedule.getHandle(LEDGER_SCHEDULE_ID).describe();
      expect(desc.action).toMatchObject({ workflowType: 'ledgerCheckpoint' });
    } finally {
      await client.connection.close();
    }
    const { tenantId, log } = await tenantLog(db);
    const entry = createHash('sha256').update(`mail ${Date.now()}`).digest();
    const { index } = await withTenant(db, tenantId, (tx) => appendEntry(tx, log, entry, 'mail'));
    const deadline = Date.now() + 30_000;
    let covered;
    while (!covered && Date.now() < deadline) {
      covered = await timestampCovering(db, log.id, index);
      if (!covered) await new Promise((r) => setTimeout(r, 500));
    }
    expect(covered?.anchorCheckpoint.tsa_response).toBeTruthy();
  }, 40_000);
});
