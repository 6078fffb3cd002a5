import { EMPTY_ROOT, hashChildren, splitPoint, type Hash, type SubtreeHasher } from './merkle';

/**
 * Tile geometry (as C2SP tlog-tiles, height 8): tile (L, N) holds the hashes of the perfect subtrees
 * of 256^L leaves with indices 256·N … 256·N + 255 — level 0 tiles hold leaf hashes. Any perfect
 * subtree's hash is at most 255 hash operations away from one tile, so a proof needs O(log n) tile
 * reads at any tree size. Tiles fill from the left; a tile is immutable once it holds 256 hashes.
 */

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 1 << TILE_HEIGHT;
export const HASH_SIZE = 32;

export interface TileReader {
  /** Concatenated hashes of tile (level, index); may be partial (width < 256). */
  tile(level: number, index: number): Buffer;
  /**
   * True while a reader only records which tiles are needed: hash values are then meaningless, so
   * the hashing up inside a tile is skipped (it dominates the cost of a proof).
   */
  readonly recording?: boolean;
  /**
   * Optionally, the hash `r` heights above tile (level, index) at position `k` of that height,
   * from memoised internal levels of a full tile; undefined means "compute it from the tile".
   */
  node?(level: number, index: number, r: number, k: number): Hash | undefined;
}

/**
 * A full tile's internal tree in one buffer: its 256 hashes, then the 128 above them, …, then its
 * root (511 hashes). One allocation per tile, not one per hash, keeps a large cache of them cheap
 * for the garbage collector (millions of small buffers made proof latency spike with GC pauses).
 */
export function fullTileNodes(tile: Buffer): Buffer {
  const nodes = Buffer.allocUnsafe((2 * TILE_WIDTH - 1) * HASH_SIZE);
  tile.copy(nodes, 0, 0, TILE_WIDTH * HASH_SIZE);
  const at = (i: number) => nodes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  let from = 0;
  for (let width = TILE_WIDTH; width > 1; width /= 2) {
    const to = from + width;
    for (let k = 0; k < width / 2; k++)
      hashChildren(at(from + 2 * k), at(from + 2 * k + 1)).copy(nodes, (to + k) * HASH_SIZE);
    from = to;
  }
  return nodes;
}

/** The hash `r` heights above the tile's base (r = 0…8) at position `k`, from fullTileNodes. */
export function tileNode(nodes: Buffer, r: number, k: number): Hash {
  const i = 2 * TILE_WIDTH - ((2 * TILE_WIDTH) >> r) + k;
  return nodes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
}

const RECORDING_PLACEHOLDER = Buffer.alloc(32);

const pow2 = (h: number) => 2 ** h;

/** Hash of the perfect subtree at tree height `h` (2^h leaves) with index `i` at that height. */
export function nodeHash(tiles: TileReader, h: number, i: number): Hash {
  return hashFromTile(tiles, Math.floor(h / TILE_HEIGHT), h % TILE_HEIGHT, i);
}

/** The node `r` heights above tile level `level` (r = 0…8), index `i` at its own height. */
function hashFromTile(tiles: TileReader, level: number, r: number, i: number): Hash {
  const first = i * pow2(r); // index of the first covered node at tree height TILE_HEIGHT·level
  const tile = tiles.tile(level, Math.floor(first / TILE_WIDTH));
  if (tiles.recording) return RECORDING_PLACEHOLDER;
  const offset = first % TILE_WIDTH;
  const memo = tiles.node?.(level, Math.floor(first / TILE_WIDTH), r, offset >> r);
  if (memo) return Buffer.from(memo);
  let row: Hash[] = [];
  for (let k = 0; k < pow2(r); k++) {
    const start = (offset + k) * HASH_SIZE;
    if (start + HASH_SIZE > tile.length)
      throw new Error(
        `tile (${level}, ${Math.floor(first / TILE_WIDTH)}) lacks hash ${offset + k}`,
      );
    row.push(tile.subarray(start, start + HASH_SIZE));
  }
  while (row.length > 1) {
    const next: Hash[] = [];
    for (let k = 0; k < row.length; k += 2) next.push(hashChildren(row[k]!, row[k + 1]!));
    row = next;
  }
  return Buffer.from(row[0]!);
}

/** A SubtreeHasher reading tiles: perfect aligned ranges from one tile, others split per RFC 9162. */
export function tileHasher(tiles: TileReader): SubtreeHasher {
  const hash = (start: number, end: number): Hash => {
    const n = end - start;
    if (n === 0) return EMPTY_ROOT;
    if ((n & (n - 1)) === 0 && start % n === 0) return nodeHash(tiles, Math.log2(n), start / n);
    const k = splitPoint(n);
    return hashChildren(hash(start, start + k), hash(start + k, end));
  };
  return { hash };
}

/**
 * The tile rows that change when leaves [oldSize, newSize) are added: level-0 rows get the new leaf
 * hashes, and each higher level gets the hashes of subtrees that became complete. Returns the new
 * contents of every touched tile, keyed `level/index`.
 */
export function integrate(
  tiles: TileReader,
  oldSize: number,
  newLeaves: Hash[],
): Map<string, { level: number; index: number; hashes: Buffer }> {
  const touched = new Map<string, { level: number; index: number; hashes: Buffer }>();
  const current = (level: number, index: number): Buffer =>
    touched.get(`${level}/${index}`)?.hashes ?? tiles.tile(level, index);
  const write = (level: number, pos: number, hash: Hash) => {
    const index = Math.floor(pos / TILE_WIDTH);
    const existing = current(level, index);
    if (existing.length !== (pos % TILE_WIDTH) * HASH_SIZE)
      throw new Error(`tile (${level}, ${index}) is not filled up to ${pos}`);
    touched.set(`${level}/${index}`, { level, index, hashes: Buffer.concat([existing, hash]) });
  };
  const reader: TileReader = { tile: current };
  newLeaves.forEach((h, k) => write(0, oldSize + k, h));
  const newSize = oldSize + newLeaves.length;
  for (let level = 1; pow2(TILE_HEIGHT * level) <= newSize; level++) {
    const span = pow2(TILE_HEIGHT * level);
    for (let j = Math.floor(oldSize / span); j < Math.floor(newSize / span); j++) {
      // The new entry is the root of the full tile below it (256 hashes, 8 heights up).
      write(level, j, hashFromTile(reader, level - 1, TILE_HEIGHT, j));
    }
  }
  return touched;
}
