import type { Db } from '../db';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import type { EpochKeyring } from '../vault/epoch-keyring';
import { Gate } from '../process/gate';
import { BlockCache } from './block-cache';
import { SearchIndex, type MailGroups } from './engine';
import { headerKey, segmentsToWarm, warmIndex } from './index-warmup';
import { SegmentReader } from './segment-reader';
import {
  blockRange,
  BlockFetcher,
  liveSegments,
  openBlock,
  parseHeader,
  readHeaders,
  SegmentKey,
} from './segment-store';

/**
 * The search index as a signed-in session reads it (decision 0021): the tenant's live segments,
 * whose blocks are fetched, decrypted and kept in this process's BlockCache only when a query
 * reads them — shared by every session of the tenant, and dropped when its last session ends
 * (logout, or idle for `idleMs`).
 */

export class SegmentGoneError extends Error {
  override name = 'SegmentGoneError';
}

type Keyring = Pick<EpochKeyring, 'get'>;

export const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 8;

/** Opens the tenant's index over `cache` with the keys of `keyring` (an unlocked session's). */
export async function openIndex(
  db: Db,
  tenantId: string,
  keyring: Keyring,
  cache: BlockCache,
): Promise<SearchIndex> {
  // The segments and the hidden mails in one transaction: every search starts with these.
  const { rows, deleted, grouped } = await withTenant(db, tenantId, async (tx) => ({
    rows: await liveSegments(tx),
    deleted: await tx
      .selectFrom('messages as m')
      .innerJoin('epochs as e', 'e.id', 'm.epoch_id')
      .select(['m.id', 'm.epoch_id'])
      .where('m.deleted_at', 'is not', null)
      .where('e.shredded_at', 'is', null)
      .execute(),
    grouped: await groupedMails(tx),
  }));
  const missing = rows.filter((r) => !cache.has(tenantId, headerKey(r.id)));
  const sealed = await readHeaders(
    db,
    tenantId,
    missing.map((r) => r.id),
  );
  const fetcher = new BlockFetcher(db, tenantId);
  const withKey = async <T>(r: { id: string; epochId: string }, fn: (key: SegmentKey) => T) => {
    const key = new SegmentKey((await keyring.get(r.epochId)).indexKey, tenantId, r.epochId, r.id);
    try {
      return fn(key);
    } finally {
      key.dispose();
    }
  };
  const readers = await Promise.all(
    rows.map(async (r) => {
      const header = await cache.get(
        tenantId,
        headerKey(r.id),
        async () => {
          const blob = sealed.get(r.id);
          if (!blob) throw new SegmentGoneError();
          return withKey(r, (key) => key.open(-1, blob));
        },
        parseHeader,
        2,
      );
      return new SegmentReader(r.id, r.epochId, header, {
        block: (n, parse, memory) =>
          cache.get(
            tenantId,
            `${r.id}/${n}`,
            async () => {
              const { offset, length } = blockRange(header, n);
              const blob = await fetcher.fetch(r.id, offset, length);
              if (!blob) throw new SegmentGoneError();
              return withKey(r, (key) => openBlock(key, n, blob));
            },
            parse,
            memory,
          ),
        remember: (key, compute) => cache.remember(tenantId, `${r.id}/${key}`, compute),
      });
    }),
  );
  return new SearchIndex(
    readers,
    {
      ids: new Set(deleted.map((d) => d.id)),
      epochs: new Set(deleted.map((d) => d.epoch_id)),
    },
    grouped,
  );
}

/**
 * The live members of every logical mail with more than one (decision 0029), earliest arrival
 * first. Both halves read the partial index on `logical_id`, never the whole table.
 */
async function groupedMails(tx: TenantTx): Promise<MailGroups> {
  const { rows } = await sql<{ id: string; grp: string; epoch_id: string }>`
    SELECT id, grp, epoch_id FROM (
      SELECT id, logical_id AS grp, epoch_id, received_at FROM messages
       WHERE logical_id IS NOT NULL AND deleted_at IS NULL
      UNION ALL
      SELECT p.id, p.id, p.epoch_id, p.received_at FROM messages p
       WHERE p.deleted_at IS NULL AND p.id IN (
         SELECT logical_id FROM messages WHERE logical_id IS NOT NULL AND deleted_at IS NULL)
    ) g ORDER BY received_at, id`.execute(tx);
  const groups = new Map<string, string[]>();
  for (const r of rows) {
    let list = groups.get(r.grp);
    if (!list) groups.set(r.grp, (list = []));
    list.push(r.id);
  }
  const epochs = new Set<string>();
  const digest = createHash('sha256');
  for (const [grp, ids] of groups) {
    if (ids.length < 2) groups.delete(grp);
    else digest.update(`${grp}:${ids.join(',')};`);
  }
  for (const r of rows) if (groups.has(r.grp)) epochs.add(r.epoch_id);
  return { groups, epochs, version: digest.digest('hex').slice(0, 32) };
}

/** Runs `fn` on the tenant's index; once more on a fresh one when a merge replaced a segment. */
export async function withIndex<T>(
  open: () => Promise<SearchIndex>,
  fn: (index: SearchIndex) => Promise<T>,
): Promise<T> {
  try {
    return await fn(await open());
  } catch (e) {
    if (!(e instanceof SegmentGoneError)) throw e;
    return fn(await open());
  }
}

/**
 * Which sessions of which tenants use the cache. A tenant's decrypted blocks stay while one of
 * its sessions is signed in and has been used within `idleMs`.
 */
export class TenantIndexes {
  readonly cache: BlockCache;
  private readonly sessions = new Map<string, Map<string, number>>();
  private readonly timer: NodeJS.Timeout;
  private readonly gate: Gate;
  private readonly warming = new Set<string>();

  constructor(
    private readonly options: { budgetBytes?: number; idleMs?: number; concurrency?: number } = {},
  ) {
    this.cache = new BlockCache(options.budgetBytes ?? DEFAULT_CACHE_BYTES);
    this.gate = new Gate(options.concurrency ?? DEFAULT_CONCURRENCY, Infinity);
    const idle = options.idleMs ?? 30 * 60_000;
    this.timer = setInterval(() => this.sweep(), Math.min(idle, 60_000));
    this.timer.unref();
  }

  /**
   * Runs a search when fewer than `concurrency` (default 8) run in this process, else after the
   * ones before it, in order. Each search holds candidate lists and decoded blocks while it runs:
   * bounding how many run bounds that memory however many sessions ask at once, and costs no
   * throughput (a search is CPU work on the one event loop, or waits on the database).
   */
  limit<T>(fn: () => Promise<T>): Promise<T> {
    return this.gate.run(fn);
  }

  /**
   * Marks `session` of `tenantId` as using the tenant's index now. When it is the tenant's first
   * (nothing of the tenant cached), starts reading the index ahead (index-warmup.ts) with the keys
   * of `keyring`, which must stay open until this returns.
   */
  async enter(
    tenantId: string,
    session: string,
    warmup?: { db: Db; keyring: Pick<EpochKeyring, 'get'> },
  ): Promise<void> {
    let of = this.sessions.get(tenantId);
    const first = !of;
    if (!of) this.sessions.set(tenantId, (of = new Map()));
    of.set(session, Date.now());
    if (!first || !warmup || this.warming.has(tenantId)) return;
    this.warming.add(tenantId);
    try {
      const segments = await segmentsToWarm(warmup.db, tenantId, warmup.keyring, this.cache);
      this.warmed = warmIndex(
        warmup.db,
        tenantId,
        segments,
        this.cache,
        () => this.sessions.has(tenantId),
        () => this.gate.load.running > 0,
      ).finally(() => this.warming.delete(tenantId));
    } catch {
      // Nothing read ahead: the queries read what they need.
      this.warming.delete(tenantId);
    }
  }

  /** The warm-up started last (benchmarks wait for it); resolves to the blocks it read. */
  warmed: Promise<number> = Promise.resolve(0);

  /** The session ended (logout): the tenant's blocks go with its last session. */
  leave(session: string): void {
    for (const [tenantId, of] of this.sessions)
      if (of.delete(session) && !of.size) this.forgetTenant(tenantId);
  }

  sessionsOf(tenantId: string): number {
    return this.sessions.get(tenantId)?.size ?? 0;
  }

  sweep(now = Date.now()): void {
    const limit = now - (this.options.idleMs ?? 30 * 60_000);
    for (const [tenantId, of] of this.sessions) {
      for (const [session, usedAt] of of) if (usedAt < limit) of.delete(session);
      if (!of.size) this.forgetTenant(tenantId);
    }
  }

  private forgetTenant(tenantId: string): void {
    this.sessions.delete(tenantId);
    this.cache.dropTenant(tenantId);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
