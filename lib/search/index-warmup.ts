import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import type { EpochKeyring } from '../vault/epoch-keyring';
import type { BlockCache } from './block-cache';
import { ORDERS } from './segment-format';
import {
  blockRange,
  BlockFetcher,
  liveSegments,
  openBlock,
  parseHeader,
  readHeaders,
  SegmentKey,
  type StoredHeader,
} from './segment-store';

/**
 * Reading a tenant's index ahead (decision 0024): when a tenant's first session opens its index,
 * the blocks every query starts from — dictionaries, prefix dictionaries, order indexes — and then
 * the rest are decrypted into the cache's plaintext tier in the background, so the first queries
 * of the session find them there instead of each fetching and decrypting its own. Never more than
 * `WARM_SHARE` of the tier (a large tenant warms its dictionaries, not its whole index), never
 * evicting, a step at a time and only while no search runs in the process, and it stops when the
 * tenant's last session ends. The segment keys it needs are derived while the request that started it holds the
 * tenant's keys and are zeroed when it ends.
 */

/** Where a segment's decrypted header is cached (tenant-index.ts reads it there). */
export const headerKey = (segmentId: string) => `${segmentId}/h`;

/** Share of the plaintext tier the warm-up may fill. */
export const WARM_SHARE = 0.5;
/** Bytes of neighbouring blocks fetched as one run, and runs per statement. */
const CHUNK = 1 * 2 ** 20;
const RUNS_PER_STEP = 16;

export interface WarmSegment {
  id: string;
  header: StoredHeader;
  key: SegmentKey;
}

/**
 * The live segments of the tenant with their keys, read while `keyring` is open; their headers go
 * into the cache as a query would put them there.
 */
export async function segmentsToWarm(
  db: Db,
  tenantId: string,
  keyring: Pick<EpochKeyring, 'get'>,
  cache: BlockCache,
): Promise<WarmSegment[]> {
  const rows = await withTenant(db, tenantId, (tx) => liveSegments(tx));
  const headers = await readHeaders(
    db,
    tenantId,
    rows.map((r) => r.id),
  );
  const out: WarmSegment[] = [];
  try {
    for (const r of rows) {
      const sealed = headers.get(r.id);
      if (!sealed) continue;
      const { indexKey } = await keyring.get(r.epochId);
      const key = new SegmentKey(indexKey, tenantId, r.epochId, r.id);
      try {
        const open = async () => key.open(-1, sealed);
        out.push({ id: r.id, key, header: await cache.get(tenantId, headerKey(r.id), open, parseHeader, 2) }); // prettier-ignore
      } catch (e) {
        key.dispose();
        throw e;
      }
    }
  } catch (e) {
    // No warm-up after all: the keys taken so far are zeroed here.
    for (const s of out) s.key.dispose();
    throw e;
  }
  return out;
}

/** A segment's blocks every query starts from, and all its others. */
function blocksOf(h: StoredHeader): { entry: number[]; rest: number[] } {
  const entry = new Set([
    ...h.dict.block,
    ...(h.prefix?.block ?? []),
    ...ORDERS.map((o) => h.order[o].index),
  ]);
  const rest = Array.from({ length: h.blocks }, (_, n) => n).filter((n) => !entry.has(n));
  return { entry: [...entry], rest };
}

/** `blocks` (ascending) of segment `s` as runs of neighbours of at most CHUNK bytes each. */
function runs(s: WarmSegment, blocks: number[]): { s: WarmSegment; blocks: number[] }[] {
  const out: { s: WarmSegment; blocks: number[] }[] = [];
  for (const n of [...blocks].sort((a, b) => a - b)) {
    const run = out.at(-1);
    const start = run && blockRange(s.header, run.blocks[0]!).offset;
    const fits = run && run.blocks.at(-1) === n - 1 && s.header.ends[n]! - start! <= CHUNK;
    if (fits) run.blocks.push(n);
    else out.push({ s, blocks: [n] });
  }
  return out;
}

/**
 * Warms `segments` into `cache` while `active()`; the number of blocks read. Disposes the keys.
 * Failures end the warm-up quietly: a query reads what is missing itself.
 */
export async function warmIndex(
  db: Db,
  tenantId: string,
  segments: WarmSegment[],
  cache: BlockCache,
  active: () => boolean,
  /** Searches are running: the read-ahead waits for a pause (it is only worth it before them). */
  busy: () => boolean = () => false,
): Promise<number> {
  const fetcher = new BlockFetcher(db, tenantId);
  let read = 0;
  try {
    // Every segment's entry blocks before any segment's other blocks; each pass in runs of
    // neighbouring blocks, one statement per run of up to CHUNK bytes.
    const plans = segments.map((s) => ({ s, ...blocksOf(s.header) }));
    const chunks = [
      ...plans.flatMap(({ s, entry }) => runs(s, entry)),
      ...plans.flatMap(({ s, rest }) => runs(s, rest)),
    ];
    // A few runs per statement (BlockFetcher joins the fetches of one turn of the event loop).
    for (let at = 0; at < chunks.length && active(); at += RUNS_PER_STEP) {
      const step = chunks.slice(at, at + RUNS_PER_STEP);
      const fetched = await Promise.all(
        step.map(({ s, blocks }) => {
          const first = blockRange(s.header, blocks[0]!).offset;
          return fetcher.fetch(s.id, first, s.header.ends[blocks.at(-1)!]! - first);
        }),
      );
      let room = true;
      for (const [k, { s, blocks }] of step.entries()) {
        const bytes = fetched[k];
        if (!bytes) continue; // merged away meanwhile
        const first = blockRange(s.header, blocks[0]!).offset;
        for (const n of blocks) {
          // The tenant's last session may have left while the step was fetched.
          room = active();
          if (!room) break;
          const { offset, length } = blockRange(s.header, n);
          const sealed = bytes.subarray(offset - first, offset - first + length);
          room = await cache.warm(tenantId, `${s.id}/${n}`, async () => {
            read++;
            return openBlock(s.key, n, sealed);
          }, WARM_SHARE); // prettier-ignore
          if (!room) break;
        }
        if (!room) break;
      }
      if (!room) break;
      // Queries go first: waiting on the event loop, or running.
      await new Promise((r) => setImmediate(r));
      while (busy() && active()) await new Promise((r) => setTimeout(r, 2));
    }
  } catch {
    // A segment merged away, the database busy: queries read what they need themselves.
  } finally {
    for (const s of segments) s.key.dispose();
  }
  return read;
}
