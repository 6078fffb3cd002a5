import { auditLedgerKeyCreated } from '../../lib/audit/ledger-keys';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { openCheckpoint } from '../../lib/ledger/checkpoint';
import {
  hashLeaf,
  memoryHasher,
  verifyConsistency,
  verifyInclusion,
} from '../../lib/ledger/merkle';
import {
  appendEntry,
  consistencyProofFor,
  ensureLog,
  inclusionProofFor,
  integrateLog,
  signCurrentCheckpoint,
} from '../../lib/ledger/store';
import { tenantWithLog } from '../helpers/ledger';
import { ownDatabase } from '../helpers/own-database';
import { stackConfig } from '../helpers/stack-env';

const cfg = stackConfig();
const wrapKey = Buffer.from(cfg.LEDGER_KEY_WRAP_KEY, 'base64');
// A database of its own: the stack's checkpoint schedule would integrate these logs (and anchor
// their tenants' audit heads into them) while the tests count sizes.
const own = ownDatabase(cfg, 'store', 8);
let db: Db;
beforeAll(() => {
  db = own.db();
});

const sha = (s: string) => createHash('sha256').update(s).digest();

const newTenantLog = () => tenantWithLog(db, cfg);

describe('ledger store on PostgreSQL', () => {
  it('sequences concurrent appends without gaps or duplicates, idempotently per entry', async () => {
    const { tenantId, log } = await newTenantLog();
    const entries = Array.from({ length: 120 }, (_, i) => sha(`mail ${i}`));
    // 240 appends (every entry twice) from 12 concurrent workers.
    const work = [...entries, ...entries].sort(() => Math.random() - 0.5);
    const results: { entry: Buffer; index: number }[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        for (let e = work.pop(); e; e = work.pop()) {
          const entry = e;
          const { index } = await withTenant(db, tenantId, (tx) =>
            appendEntry(tx, log, entry, 'mail'),
          );
          results.push({ entry, index });
        }
      }),
    );
    const byEntry = new Map<string, Set<number>>();
    for (const r of results)
      byEntry.set(
        r.entry.toString('hex'),
        (byEntry.get(r.entry.toString('hex')) ?? new Set()).add(r.index),
      );
    expect([...byEntry.values()].every((s) => s.size === 1)).toBe(true);
    const indices = [...byEntry.values()].map((s) => [...s][0]!).sort((a, b) => a - b);
    expect(indices).toEqual(Array.from({ length: 120 }, (_, i) => i));
  });

  it('integrates in batches into tiles whose root and proofs match the reference tree', async () => {
    const { tenantId, log } = await newTenantLog();
    const entries = Array.from({ length: 700 }, () => randomBytes(32));
    await withTenant(db, tenantId, async (tx) => {
      for (const e of entries) await appendEntry(tx, log, e, 'mail');
    });
    const sizes: number[] = [];
    for (;;) {
      const { size } = await withTenant(db, tenantId, (tx) => integrateLog(tx, log, 257));
      if (sizes.at(-1) === size) break;
      sizes.push(size);
    }
    expect(sizes).toEqual([257, 514, 700]);
    const reference = memoryHasher(entries.map(hashLeaf));
    const { checkpoint, note } = await withTenant(db, tenantId, (tx) =>
      signCurrentCheckpoint(tx, log, wrapKey),
    );
    expect(checkpoint.size).toBe(700);
    expect(checkpoint.root.equals(reference.hash(0, 700))).toBe(true);
    const row = await db
      .selectFrom('ledger_logs')
      .select('signing_public_key')
      .where('id', '=', log.id)
      .executeTakeFirstOrThrow();
    expect(openCheckpoint(note, { name: log.origin, publicKey: row.signing_public_key })).toEqual(
      checkpoint,
    );

    for (const i of [0, 1, 255, 256, 511, 699]) {
      const proof = await withTenant(db, tenantId, (tx) => inclusionProofFor(tx, log.id, i, 700));
      verifyInclusion(hashLeaf(entries[i]!), i, 700, proof, checkpoint.root);
    }
    for (const s of [1, 256, 257, 514, 699]) {
      const proof = await withTenant(db, tenantId, (tx) => consistencyProofFor(tx, log.id, s, 700));
      verifyConsistency(s, 700, proof, reference.hash(0, s), checkpoint.root);
    }
  });

  it('keeps one tenant’s log invisible to another, and the anchor log shared', async () => {
    const a = await newTenantLog();
    const b = await newTenantLog();
    await withTenant(db, b.tenantId, (tx) => appendEntry(tx, b.log, sha(randomUUID()), 'mail'));
    const seen = await withTenant(db, a.tenantId, (tx) =>
      tx.selectFrom('ledger_entries').select('log_id').where('log_id', '=', b.log.id).execute(),
    );
    expect(seen).toEqual([]);
    const anchor = await ensureLog(db, {
      tenantId: null,
      originPrefix: cfg.LEDGER_ORIGIN,
      onKeyCreated: auditLedgerKeyCreated,
      wrapKey,
    });
    expect(
      await ensureLog(db, {
        tenantId: null,
        originPrefix: cfg.LEDGER_ORIGIN,
        onKeyCreated: auditLedgerKeyCreated,
        wrapKey,
      }),
    ).toEqual(anchor);
    const visible = await withTenant(db, a.tenantId, (tx) =>
      tx.selectFrom('ledger_logs').select('id').where('id', '=', anchor.id).execute(),
    );
    expect(visible).toHaveLength(1);
    // A tenant cannot append to the anchor log or another tenant's log.
    await expect(
      withTenant(db, a.tenantId, (tx) => appendEntry(tx, anchor, sha('x'), 'checkpoint')),
    ).rejects.toThrow();
  });
});
