import { sql } from 'kysely';
import { createDb, type Db } from '../../lib/db';
import { withTenant } from '../../lib/db/tenant-scope';
import { SearchIndex } from '../../lib/search/engine';
import { indexWorkflowId, startIndexMaintenance } from '../../lib/search/index-maintenance';
import { mergeAll, mergeQueued, queuedForIndex } from '../../lib/search/index-store';
import { BlockCache } from '../../lib/search/block-cache';
import { SegmentBuildThreads } from '../../lib/search/segment-build-threads';
import { openIndex } from '../../lib/search/tenant-index';
import { connectTemporal } from '../../lib/temporal/client';
import { ENCODING } from '../../lib/temporal/codec';
import { destroyGrant, GrantUnavailableError, issueGrant, openGrant } from '../../lib/vault/grants';
import { parseQuery } from '../../lib/search/query';
import { currentEpochPublicKey, lock } from '../../lib/vault';
import { EpochKeyring } from '../../lib/vault/epoch-keyring';
import type { UnlockedSession } from '../../lib/vault/session';
import { unlockedTenant } from '../helpers/tenant';
import { queueMails } from '../helpers/search-corpus';
import { stackConfig } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

/**
 * The encrypted index in PostgreSQL: queued mails become segments only an unlocked session can
 * read; the stored bytes give no word away; merging is exactly-once under concurrency and
 * compaction keeps an epoch at a few segments; another tenant's session sees none of it.
 */
const cfg = stackConfig();
// Inspects and tampers with what is stored as the database administrator; the code under test
// runs as the service role.
const dba = adminDb(cfg);
afterAll(() => dba.destroy());
let db: Db;
beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 6);
});
afterAll(() => db.destroy());

async function tenant(name: string) {
  const t = await unlockedTenant(db, name);
  const { session } = t;
  const epoch = await currentEpochPublicKey(db, {
    tenantId: t.tenantId,
    retentionClass: 'default',
  });
  return { ...t, session, epoch };
}

const search = async (index: SearchIndex, q: string) =>
  (await index.search(parseQuery(q))).hits.map((d) => d.subject);

/** What a session's first archive page does: merge what is queued, open the index. */
const loadIndex = async (s: UnlockedSession, k: EpochKeyring) => {
  await mergeAll(db, s, k);
  return openIndex(db, s.tenantId, k, new BlockCache(64 * 2 ** 20));
};

async function withKeyring<T>(s: UnlockedSession, fn: (k: EpochKeyring) => Promise<T>) {
  const k = new EpochKeyring(db, s);
  try {
    return await fn(k);
  } finally {
    k.dispose();
  }
}

describe('index maintenance workflow', () => {
  it('merges under a decryption grant that is gone when it ends', async () => {
    const d = await tenant('IndexD');
    await queueMails(db, d.tenantId, d.epoch, [
      { subject: 'Hintergrund', from: 'a@d.example', to: 'b@d.example', text: 'Wartung läuft' },
    ]);
    const temporal = await connectTemporal(cfg);
    try {
      const deps = { db, temporal, taskQueue: cfg.TEMPORAL_TASK_QUEUE };
      expect(await startIndexMaintenance(deps, d.session)).toBe('started');
      // A second start while it runs adds nothing, and leaves no second grant behind.
      const second = await startIndexMaintenance(deps, d.session);
      const merged = await temporal.workflow.getHandle(indexWorkflowId(d.tenantId)).result();
      expect(merged).toBe(second === 'running' ? 1 : 0);
      const grants = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM decryption_grants WHERE tenant_id = ${d.tenantId}`.execute(
        dba,
      );
      expect(grants.rows[0]!.n).toBe(second === 'running' ? 0 : 1);
      expect(await queuedForIndex(db, d.tenantId)).toBe(0);
      // Temporal's history holds the input (with the grant key) only encrypted by the codec.
      const history = await temporal.workflow.getHandle(indexWorkflowId(d.tenantId)).fetchHistory();
      const input =
        history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      expect(Buffer.from(input.metadata!.encoding!).toString()).toBe(ENCODING);
      expect(Buffer.from(input.data!).includes(Buffer.from('grantKey'))).toBe(false);
      const index = await withKeyring(d.session, (k) => loadIndex(d.session, k));
      expect(await search(index, 'wartung')).toEqual(['Hintergrund']);
    } finally {
      await temporal.connection.close();
      lock(d.session);
    }
  });

  it('a destroyed or expired grant opens nothing', async () => {
    const e = await tenant('IndexE');
    const live = await issueGrant(db, e.session, { purpose: 'search-index', ttlMs: 60_000 });
    const opened = await openGrant(db, { tenantId: e.tenantId, ...live, purpose: 'search-index' });
    expect(opened.tenantPrivateKey.equals(e.session.tenantPrivateKey)).toBe(true);
    // The stored row alone (a database dump) does not hold the key.
    const row = await sql<{ sealed_keys: Buffer }>`
      SELECT sealed_keys FROM decryption_grants WHERE id = ${live.grantId}`.execute(dba);
    expect(row.rows[0]!.sealed_keys.includes(e.session.tenantPrivateKey)).toBe(false);
    await expect(
      openGrant(db, { tenantId: e.tenantId, ...live, purpose: 'export' }),
    ).rejects.toThrow(GrantUnavailableError);
    await destroyGrant(db, e.tenantId, live.grantId);
    await expect(
      openGrant(db, { tenantId: e.tenantId, ...live, purpose: 'search-index' }),
    ).rejects.toThrow(GrantUnavailableError);
    const expired = await issueGrant(db, e.session, { purpose: 'search-index', ttlMs: -1 });
    await expect(
      openGrant(db, { tenantId: e.tenantId, ...expired, purpose: 'search-index' }),
    ).rejects.toThrow(GrantUnavailableError);
    lock(e.session);
  });
});

describe('encrypted search index', () => {
  it('stores no readable word and answers only an unlocked session of its tenant', async () => {
    const a = await tenant('IndexA');
    const b = await tenant('IndexB');
    await queueMails(db, a.tenantId, a.epoch, [
      { subject: 'Quartalsbericht', from: 'cfo@a.example', to: 'vorstand@a.example', text: 'Geheimprojekt Zaunkönig startet' },
      { subject: 'Urlaub', from: 'hr@a.example', to: 'alle@a.example', text: 'Betriebsferien im August' },
    ]); // prettier-ignore
    const index = await withKeyring(a.session, (k) => loadIndex(a.session, k));
    expect(await search(index, 'zaunkonig')).toEqual(['Quartalsbericht']);
    expect(await search(index, 'august')).toEqual(['Urlaub']);

    // Neither the segments nor the queue-era ciphertexts hold a word or address in the clear.
    const stored = await sql<{ blob: Buffer }>`
      SELECT enc_blocks AS blob FROM search_segments WHERE tenant_id = ${a.tenantId}
      UNION ALL SELECT enc_header FROM search_segments WHERE tenant_id = ${a.tenantId}
      UNION ALL SELECT enc_tokens FROM messages WHERE tenant_id = ${a.tenantId}
      UNION ALL SELECT enc_metadata FROM messages WHERE tenant_id = ${a.tenantId}`.execute(dba);
    expect(stored.rows.length).toBeGreaterThan(2);
    for (const { blob } of stored.rows)
      for (const word of ['zaunkonig', 'Zaunkönig', 'Quartalsbericht', 'cfo@a.example', 'august'])
        expect(blob.includes(Buffer.from(word))).toBe(false);

    // Tenant B's session: RLS shows it no segment of A, so its index holds nothing of A.
    const bIndex = await withKeyring(b.session, (k) => loadIndex(b.session, k));
    expect(await bIndex.count()).toBe(0);
    const seen = await withTenant(db, b.tenantId, (tx) =>
      tx.selectFrom('search_segments').select('id').where('tenant_id', '=', a.tenantId).execute(),
    );
    expect(seen).toEqual([]);
    // Nor can B's keys open A's epoch, even when handed A's epoch id.
    await expect(withKeyring(b.session, (k) => k.get(a.epoch.epochId))).rejects.toThrow();
    lock(a.session);
    lock(b.session);
  });

  it('merges each queued mail exactly once under concurrency and compacts an epoch', async () => {
    const c = await tenant('IndexC');
    const mails = Array.from({ length: 60 }, (_, i) => ({
      subject: `Rechnung ${i}`,
      from: `lieferant${i % 7}@c.example`,
      to: 'buchhaltung@c.example',
      text: `Rechnungsnummer R-${i} Betrag ${i * 10} Euro`,
    }));
    // Twelve batches of five, merged by four concurrent mergers each time.
    for (let i = 0; i < 12; i++) {
      await queueMails(db, c.tenantId, c.epoch, mails.slice(i * 5, i * 5 + 5));
      await Promise.all(
        Array.from({ length: 4 }, () =>
          withKeyring(c.session, (k) => mergeQueued(db, c.session, k)),
        ),
      );
    }
    const counts = await sql<{ segments: number; docs: number; queued: number }>`
      SELECT (SELECT count(*)::int FROM search_segments WHERE tenant_id = ${c.tenantId}) AS segments,
             (SELECT coalesce(sum(doc_count), 0)::int FROM search_segments WHERE tenant_id = ${c.tenantId}) AS docs,
             (SELECT count(*)::int FROM search_index_queue WHERE tenant_id = ${c.tenantId}) AS queued`.execute(
      dba,
    );
    expect(counts.rows[0]!.docs).toBe(60);
    expect(counts.rows[0]!.queued).toBe(0);
    expect(counts.rows[0]!.segments).toBeLessThanOrEqual(6);

    const index = await withKeyring(c.session, (k) => loadIndex(c.session, k));
    expect(await index.count()).toBe(60);
    expect(new Set(await index.ids(parseQuery(''))).size).toBe(60);
    expect(await search(index, 'r-42')).toEqual(['Rechnung 42']);
    expect((await index.search(parseQuery('from:lieferant3@c.example'))).total).toBe(9);

    // A later mail is found by the next open.
    await queueMails(db, c.tenantId, c.epoch, [
      { subject: 'Nachzügler', from: 'x@c.example', to: 'y@c.example', text: 'spät' },
    ]);
    const again = await withKeyring(c.session, (k) => loadIndex(c.session, k));
    expect(await again.count()).toBe(61);
    expect(new Set(await again.ids(parseQuery(''))).size).toBe(61);
    lock(c.session);
  });

  it('merge threads build the same index as the merge in-process, and a batch one cannot decrypt stays queued', async () => {
    const t = await tenant('IndexT');
    const mails = Array.from({ length: 23 }, (_, i) => ({
      subject: `Lieferschein ${i}`,
      from: `spedition${i % 4}@t.example`,
      to: 'lager@t.example',
      text: `Palette P-${i} Gewicht ${i * 3} kg`,
      attachment: i % 3 ? undefined : `ls-${i}.pdf`,
    }));
    await queueMails(db, t.tenantId, t.epoch, mails);
    const threads = new SegmentBuildThreads(2);
    try {
      // Batches of five on two threads: ten mails per transaction, five segments in all.
      const merged = await withKeyring(t.session, (k) => mergeQueued(db, t.session, k, 5, threads));
      expect(merged).toBe(10);
      await withKeyring(t.session, async (k) => {
        while ((await mergeQueued(db, t.session, k, 5, threads)) > 0);
      });
      const index = await withKeyring(t.session, (k) => loadIndex(t.session, k));
      expect(await index.count()).toBe(23);
      expect(await search(index, 'p-17')).toEqual(['Lieferschein 17']);
      expect((await index.search(parseQuery('from:spedition1@t.example'))).total).toBe(6);
      expect((await index.search(parseQuery('has:attachment'))).total).toBe(8);

      // The same mails merged in-process by a second tenant give the same answers.
      const u = await tenant('IndexU');
      await queueMails(db, u.tenantId, u.epoch, mails);
      const inProc = await withKeyring(u.session, (k) => loadIndex(u.session, k));
      for (const q of ['p-17', 'gewicht', 'from:spedition1@t.example', 'has:attachment', 'lager*'])
        expect((await inProc.search(parseQuery(q))).total).toBe(
          (await index.search(parseQuery(q))).total,
        );
      lock(u.session);

      // A mail whose token list was altered: its thread's job fails, the transaction with it;
      // every mail of the batch is still queued and no segment was stored.
      const [bad] = await queueMails(db, t.tenantId, t.epoch, mails.slice(0, 3));
      await sql`UPDATE messages SET enc_tokens = set_byte(enc_tokens, 40, get_byte(enc_tokens, 40) # 1)
        WHERE id = ${bad}`.execute(dba);
      const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM search_segments
        WHERE tenant_id = ${t.tenantId}`.execute(dba);
      await expect(
        withKeyring(t.session, (k) => mergeQueued(db, t.session, k, 5, threads)),
      ).rejects.toThrow(/segment build failed/);
      expect(await queuedForIndex(db, t.tenantId)).toBe(3);
      const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM search_segments
        WHERE tenant_id = ${t.tenantId}`.execute(dba);
      expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
      // The threads are still there for the next job.
      await sql`DELETE FROM search_index_queue WHERE message_id = ${bad}`.execute(dba);
      expect(await withKeyring(t.session, (k) => mergeQueued(db, t.session, k, 5, threads))).toBe(
        2,
      );
    } finally {
      await threads.close();
    }
    lock(t.session);
  });

  it('drops segments of the format before 0027 at the first merge; their mails come back from the queue', async () => {
    const f = await tenant('IndexF');
    const [id] = await queueMails(db, f.tenantId, f.epoch, [
      { subject: 'Altbestand', from: 'a@f.example', to: 'b@f.example', text: 'vor dem Umbau' },
    ]);
    // What 0027 found: an old segment of the mail (its queue row consumed), then queued again.
    await sql`INSERT INTO search_segments (id, tenant_id, epoch_id, doc_count, format, enc_segment)
      VALUES (gen_random_uuid(), ${f.tenantId}, ${f.epoch.epochId}, 1, 2, decode('00', 'hex'))`.execute(
      dba,
    );
    const formats = () =>
      sql<{ format: number }>`SELECT format FROM search_segments WHERE tenant_id = ${f.tenantId}`
        .execute(dba)
        .then((r) => r.rows.map((x) => x.format));
    expect(await formats()).toEqual([2]);
    const index = await withKeyring(f.session, (k) => loadIndex(f.session, k));
    expect(await formats()).toEqual([3]);
    expect(await index.ids(parseQuery('umbau'))).toEqual([id]);
    lock(f.session);
  });

  it('settles a past month into one segment once none of its mails wait', async () => {
    const g = await tenant('IndexG');
    const march = await currentEpochPublicKey(db, {
      tenantId: g.tenantId,
      retentionClass: 'default',
      now: new Date('2025-03-15T00:00:00Z'),
    });
    const segments = () =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM search_segments
        WHERE tenant_id = ${g.tenantId} AND epoch_id = ${march.epochId}`
        .execute(dba)
        .then((r) => r.rows[0]!.n);
    const mails = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        subject: `März ${from + i}`,
        from: 'a@g.example',
        to: 'b@g.example',
        text: `Nachtrag ${from + i}`,
      }));
    // Full batches: the queue may hold more of March, so nothing settles yet.
    for (let i = 0; i < 3; i++) {
      await queueMails(db, g.tenantId, march, mails(i * 5, 5));
      await withKeyring(g.session, (k) => mergeQueued(db, g.session, k, 5));
    }
    expect(await segments()).toBe(3);
    // The queue drained past March: its segments become one.
    await queueMails(db, g.tenantId, march, mails(15, 1));
    await withKeyring(g.session, (k) => mergeQueued(db, g.session, k, 5));
    expect(await segments()).toBe(1);
    const index = await withKeyring(g.session, (k) => loadIndex(g.session, k));
    expect(await index.count()).toBe(16);
    expect((await index.search(parseQuery('nachtrag'))).total).toBe(16);
    lock(g.session);
  });
});
