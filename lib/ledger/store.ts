import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { zeroize } from '../crypto/bytes';
import { unwrap, wrap } from '../crypto/sealed-box';
import type { Database, Db } from '../db';
import {
  EMPTY_ROOT,
  consistencyProof,
  hashLeaf,
  inclusionProof,
  type Hash,
  type SubtreeHasher,
} from './merkle';
import { generateSigningKey, keyHash, signCheckpoint, type Checkpoint } from './checkpoint';
import {
  fullTileNodes,
  integrate,
  tileHasher,
  tileNode,
  TILE_WIDTH,
  type TileReader,
} from './tiles';

/**
 * Merkle logs in PostgreSQL, Tessera-style: `append` only sequences (assigns the next index, once
 * per entry hash, under the log's row lock, so concurrent appends leave no gap and no duplicate);
 * `integrateLog` later folds sequenced entries into tiles and a new root, in batches. Runs with the
 * caller's database handle: tenant code passes a tenant-scoped transaction, the checkpointer the
 * system connection.
 */

type Tx = Transaction<Database>;
type Conn = Db | Tx;

export type EntryKind = 'mail' | 'audit-head' | 'tombstone' | 'checkpoint';

const signingBinding = (logId: string) => ({
  tenant: 'ledger',
  message: logId,
  purpose: 'ledger-signing-key' as const,
});

export interface LogRef {
  id: string;
  tenantId: string | null;
  origin: string;
}

/** The id of the tenant's log; undefined before its first entry. */
export async function findTenantLogId(db: Conn, tenantId: string): Promise<string | undefined> {
  const log = await db
    .selectFrom('ledger_logs')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return log?.id;
}

/**
 * Records a new tenant log's signing key, in the transaction that creates it (the audit log does:
 * lib/audit/ledger-keys.ts; passed in, so the ledger depends on nothing above it).
 */
export type KeyCreatedHook = (
  tx: Tx,
  key: { tenantId: string; logId: string; origin: string; keyHash: Buffer },
) => Promise<void>;

/** What every writer of the ledger needs: the log names, the key wrapping, the key record. */
export interface LedgerKeys {
  originPrefix: string;
  wrapKey: Buffer;
  onKeyCreated: KeyCreatedHook;
}

/** The tenant's log (or, with tenantId null, the anchor log), created with its signing key on first use. */
export async function ensureLog(
  db: Conn,
  opts: { tenantId: string | null } & LedgerKeys,
): Promise<LogRef> {
  const find = () =>
    db
      .selectFrom('ledger_logs')
      .select(['id', 'tenant_id', 'origin'])
      .where((eb) =>
        opts.tenantId ? eb('tenant_id', '=', opts.tenantId) : eb('tenant_id', 'is', null),
      )
      .executeTakeFirst();
  const existing = await find();
  if (existing) return { id: existing.id, tenantId: existing.tenant_id, origin: existing.origin };
  const id = randomUUID();
  const key = generateSigningKey();
  const origin = `${opts.originPrefix}/${opts.tenantId ? `tenant/${opts.tenantId}` : 'anchor'}`;
  const create = async (tx: Tx) => {
    const inserted = await tx
      .insertInto('ledger_logs')
      .values({
        id,
        tenant_id: opts.tenantId,
        origin,
        size: 0,
        integrated_size: 0,
        root: EMPTY_ROOT,
        signing_public_key: key.publicKey,
        signing_wrapped_private_key: wrap(opts.wrapKey, signingBinding(id), key.privateKey),
      })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted && opts.tenantId)
      await opts.onKeyCreated(tx, {
        tenantId: opts.tenantId,
        logId: id,
        origin,
        keyHash: keyHash(origin, key.publicKey),
      });
  };
  if (db.isTransaction) await create(db as Tx);
  else await (db as Db).transaction().execute(create);
  zeroize(key.privateKey);
  const row = await find();
  if (!row) throw new Error('ledger log could not be created');
  return { id: row.id, tenantId: row.tenant_id, origin: row.origin };
}

/**
 * Sequences entry hashes (SHA-256 of what is logged) in one transaction: the log's row lock is
 * taken once, entries already in the log keep their index (appending is idempotent), new ones get
 * the next indices in order, all inserted with one statement. Must run inside a transaction.
 */
export async function appendEntries(
  tx: Tx,
  log: LogRef,
  items: { entryHash: Buffer; kind: EntryKind }[],
): Promise<{ index: number; fresh: boolean }[]> {
  for (const it of items)
    if (it.entryHash.length !== 32) throw new Error('entry hash must be 32 bytes');
  const locked = await tx
    .selectFrom('ledger_logs')
    .select('size')
    .where('id', '=', log.id)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const known = new Map<string, number>();
  if (items.length) {
    const existing = await tx
      .selectFrom('ledger_entries')
      .select(['idx', 'entry_hash'])
      .where('log_id', '=', log.id)
      .where(
        'entry_hash',
        'in',
        items.map((i) => i.entryHash),
      )
      .execute();
    for (const e of existing) known.set(e.entry_hash.toString('hex'), e.idx);
  }
  let next = locked.size;
  const rows: {
    log_id: string;
    tenant_id: string | null;
    idx: number;
    entry_hash: Buffer;
    kind: EntryKind;
  }[] = [];
  const out = items.map((it) => {
    const key = it.entryHash.toString('hex');
    const had = known.get(key);
    if (had !== undefined) return { index: had, fresh: false };
    known.set(key, next);
    rows.push({
      log_id: log.id,
      tenant_id: log.tenantId,
      idx: next,
      entry_hash: it.entryHash,
      kind: it.kind,
    });
    return { index: next++, fresh: true };
  });
  if (rows.length) {
    await tx.insertInto('ledger_entries').values(rows).execute();
    await tx.updateTable('ledger_logs').set({ size: next }).where('id', '=', log.id).execute();
  }
  return out;
}

/** One entry; see appendEntries. */
export async function appendEntry(
  tx: Tx,
  log: LogRef,
  entryHash: Buffer,
  kind: EntryKind,
): Promise<{ index: number; fresh: boolean }> {
  const [r] = await appendEntries(tx, log, [{ entryHash, kind }]);
  return r!;
}

/**
 * Full tiles never change (a tile is rewritten only while it fills), so serving processes keep a
 * bounded cache of them, with their internal levels memoised: a proof then needs the database only
 * for the partial tiles on the right edge and hardly any hashing. Keyed by log, level and index.
 */
const FULL_TILE_CACHE_MAX = 4096; // × 16 KiB (tile and its internal levels) = 64 MiB at most
const fullTiles = new Map<string, Buffer>();

function rememberFullTile(key: string, tile: Buffer): Buffer {
  const nodes = fullTileNodes(tile);
  fullTiles.set(key, nodes);
  if (fullTiles.size > FULL_TILE_CACHE_MAX) fullTiles.delete(fullTiles.keys().next().value!);
  return nodes;
}

/** Tiles from the database, fetched in one query per pass (see `withTiles`). */
class TileCache implements TileReader {
  readonly tiles = new Map<string, Buffer>();
  readonly missing = new Set<string>();
  /** Set for a discovery pass: tiles are recorded, nothing is hashed (see TileReader.recording). */
  recording = false;

  /** `shared`: use and fill the process-wide cache of full tiles (never for audits). */
  constructor(
    readonly logId = '',
    readonly shared = false,
  ) {}

  node(level: number, index: number, r: number, k: number): Hash | undefined {
    if (!this.shared) return undefined;
    const key = `${this.logId}/${level}/${index}`;
    let nodes = fullTiles.get(key);
    if (!nodes) {
      const t = this.tiles.get(`${level}/${index}`);
      if (!t || t.length !== TILE_WIDTH * 32) return undefined;
      nodes = rememberFullTile(key, t);
    }
    return tileNode(nodes, r, k);
  }

  tile(level: number, index: number): Buffer {
    const key = `${level}/${index}`;
    const t = this.tiles.get(key);
    if (t) return t;
    this.missing.add(key);
    // A stand-in of full width: which tiles a proof touches depends only on sizes and indices,
    // never on hash values, so one pass with stand-ins finds every tile the real pass will need.
    return Buffer.alloc(TILE_WIDTH * 32);
  }
}

async function loadTiles(db: Conn, logId: string, cache: TileCache): Promise<void> {
  if (cache.shared) {
    for (const k of [...cache.missing]) {
      const nodes = fullTiles.get(`${logId}/${k}`);
      if (nodes) {
        cache.tiles.set(k, nodes.subarray(0, TILE_WIDTH * 32));
        cache.missing.delete(k);
      }
    }
  }
  const keys = [...cache.missing].map((k) => k.split('/').map(Number) as [number, number]);
  cache.missing.clear();
  if (!keys.length) return;
  const rows = await db
    .selectFrom('ledger_tiles')
    .select(['level', 'tile_index', 'hashes'])
    .where('log_id', '=', logId)
    .where((eb) =>
      eb.or(keys.map(([l, i]) => eb.and([eb('level', '=', l), eb('tile_index', '=', i)]))),
    )
    .execute();
  for (const [l, i] of keys) cache.tiles.set(`${l}/${i}`, Buffer.alloc(0));
  for (const r of rows) cache.tiles.set(`${r.level}/${r.tile_index}`, r.hashes);
}

/**
 * Runs a pure tile computation until every tile it reads is loaded: a pass with stand-ins records
 * the tiles it touched (or fails on a stand-in), they are fetched in one query, and it runs again.
 * Levels are discovered one per pass, so a tree of n leaves needs at most log256(n) + 2 passes.
 */
async function withTiles<T>(
  db: Conn,
  logId: string,
  fn: (tiles: TileReader) => T,
  cache = new TileCache(),
): Promise<T> {
  // Discovery pass: which tiles are read depends only on sizes and indices, so one pass that
  // records without hashing finds them all for proofs and roots.
  cache.recording = true;
  try {
    fn(cache);
  } catch {
    // A failure on a stand-in is expected here; the real passes below decide.
  } finally {
    cache.recording = false;
  }
  if (cache.missing.size) await loadTiles(db, logId, cache);
  for (let pass = 0; pass < 8; pass++) {
    let result: T | undefined;
    let failure: unknown;
    try {
      result = fn(cache);
    } catch (e) {
      failure = e;
    }
    if (!cache.missing.size) {
      if (failure) throw failure;
      return result as T;
    }
    await loadTiles(db, logId, cache);
  }
  throw new Error('tile access did not converge');
}

/**
 * Integrates up to `maxBatch` sequenced entries into tiles and returns the new integrated size and
 * root. Holds the log's row lock, so integrations of one log never interleave.
 */
export async function integrateLog(
  tx: Tx,
  log: LogRef,
  maxBatch = 50_000,
): Promise<{ size: number; root: Hash }> {
  const row = await tx
    .selectFrom('ledger_logs')
    .select(['size', 'integrated_size', 'root'])
    .where('id', '=', log.id)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const from = row.integrated_size;
  const to = Math.min(row.size, from + maxBatch);
  if (to === from) return { size: from, root: row.root };
  const entries = await tx
    .selectFrom('ledger_entries')
    .select(['idx', 'entry_hash'])
    .where('log_id', '=', log.id)
    .where('idx', '>=', from)
    .where('idx', '<', to)
    .orderBy('idx')
    .execute();
  if (entries.length !== to - from || entries.some((e, k) => e.idx !== from + k))
    throw new Error(`log ${log.id} has a gap between ${from} and ${to}`);
  const leaves = entries.map((e) => hashLeaf(e.entry_hash));
  // Integration reads only the frontier: at each level the tile holding the first new position
  // (tiles to its right do not exist yet, tiles to its left are full and never read). Load
  // exactly those, and treat every other tile as empty.
  const cache = new TileCache();
  for (let level = 0; 256 ** level <= to; level++) {
    cache.missing.add(`${level}/${Math.floor(Math.floor(from / 256 ** level) / TILE_WIDTH)}`);
  }
  await loadTiles(tx, log.id, cache);
  const frontier: TileReader = { tile: (l, i) => cache.tiles.get(`${l}/${i}`) ?? Buffer.alloc(0) };
  const touched = integrate(frontier, from, leaves);
  for (const t of touched.values()) {
    await tx
      .insertInto('ledger_tiles')
      .values({
        log_id: log.id,
        tenant_id: log.tenantId,
        level: t.level,
        tile_index: t.index,
        hashes: t.hashes,
      })
      .onConflict((oc) =>
        oc.columns(['log_id', 'level', 'tile_index']).doUpdateSet({ hashes: t.hashes }),
      )
      .execute();
    cache.tiles.set(`${t.level}/${t.index}`, t.hashes);
  }
  const root = await withTiles(tx, log.id, (tiles) => tileHasher(tiles).hash(0, to), cache);
  await tx
    .updateTable('ledger_logs')
    .set({ integrated_size: to, root })
    .where('id', '=', log.id)
    .execute();
  return { size: to, root };
}

/** Options of the proof functions: `fresh` reads every tile from the database (audits). */
export interface ProofOptions {
  fresh?: boolean;
}

/** Runs a proof computation over the log's tiles, with the shared full-tile cache unless fresh. */
const withProofTiles = <T>(
  db: Conn,
  logId: string,
  opts: ProofOptions,
  fn: (h: SubtreeHasher) => T,
) => withTiles(db, logId, (tiles) => fn(tileHasher(tiles)), new TileCache(logId, !opts.fresh));

export const inclusionProofFor = (
  db: Conn,
  logId: string,
  index: number,
  size: number,
  opts: ProofOptions = {},
): Promise<Hash[]> => withProofTiles(db, logId, opts, (h) => inclusionProof(h, index, size));

export const consistencyProofFor = (
  db: Conn,
  logId: string,
  size1: number,
  size2: number,
  opts: ProofOptions = {},
): Promise<Hash[]> => withProofTiles(db, logId, opts, (h) => consistencyProof(h, size1, size2));

/** Signs the log's current integrated state as a checkpoint note. */
export async function signCurrentCheckpoint(
  db: Conn,
  log: LogRef,
  wrapKey: Buffer,
): Promise<{ checkpoint: Checkpoint; note: string }> {
  const row = await db
    .selectFrom('ledger_logs')
    .selectAll()
    .where('id', '=', log.id)
    .executeTakeFirstOrThrow();
  const checkpoint = { origin: row.origin, size: row.integrated_size, root: row.root };
  const privateKey = unwrap(wrapKey, signingBinding(log.id), row.signing_wrapped_private_key);
  try {
    return {
      checkpoint,
      note: signCheckpoint(checkpoint, row.origin, privateKey, row.signing_public_key),
    };
  } finally {
    zeroize(privateKey);
  }
}
