import { randomBytes } from 'node:crypto';
import {
  hashLeaf,
  inclusionProof,
  consistencyProof,
  memoryHasher,
  verifyInclusion,
} from '../../lib/ledger/merkle';
import {
  fullTileNodes,
  tileNode,
  integrate,
  tileHasher,
  TILE_WIDTH,
  type TileReader,
} from '../../lib/ledger/tiles';

/** An in-memory tile store fed only through `integrate`, in uneven batches. */
function buildTiles(leaves: Buffer[], batches: number[]): TileReader {
  const store = new Map<string, Buffer>();
  const reader: TileReader = { tile: (l, i) => store.get(`${l}/${i}`) ?? Buffer.alloc(0) };
  let size = 0;
  let b = 0;
  while (size < leaves.length) {
    const n = Math.min(batches[b++ % batches.length]!, leaves.length - size);
    for (const [key, t] of integrate(reader, size, leaves.slice(size, size + n)))
      store.set(key, t.hashes);
    size += n;
  }
  return reader;
}

describe('ledger tiles', () => {
  const leaves = Array.from({ length: TILE_WIDTH * TILE_WIDTH + 300 }, (_, i) =>
    hashLeaf(Buffer.from(`entry ${i}`)),
  );
  const reference = memoryHasher(leaves);
  const tiles = tileHasher(buildTiles(leaves, [1, 7, 255, 256, 1000, 3]));

  it('gives the same roots as the reference tree at sizes around tile boundaries', () => {
    for (const size of [
      1,
      2,
      3,
      255,
      256,
      257,
      511,
      512,
      513,
      65535,
      65536,
      65537,
      leaves.length,
    ]) {
      expect(tiles.hash(0, size).equals(reference.hash(0, size))).toBe(true);
    }
  });

  it('gives the same inclusion and consistency proofs as the reference tree', () => {
    for (let t = 0; t < 200; t++) {
      const size = 1 + (randomBytes(4).readUInt32BE() % leaves.length);
      const index = randomBytes(4).readUInt32BE() % size;
      const proof = inclusionProof(tiles, index, size);
      expect(proof).toEqual(inclusionProof(reference, index, size));
      verifyInclusion(leaves[index]!, index, size, proof, reference.hash(0, size));
      const size1 = randomBytes(4).readUInt32BE() % (size + 1);
      expect(consistencyProof(tiles, size1, size)).toEqual(
        consistencyProof(reference, size1, size),
      );
    }
  });

  it('gives identical roots and proofs when full tiles come with memoised internal levels', () => {
    const plain = buildTiles(leaves, [256]);
    const memo = new Map<string, Buffer>();
    const withMemo: TileReader = {
      tile: (l, i) => plain.tile(l, i),
      node: (l, i, r, k) => {
        const t = plain.tile(l, i);
        if (t.length !== TILE_WIDTH * 32) return undefined;
        const key = `${l}/${i}`;
        if (!memo.has(key)) memo.set(key, fullTileNodes(t));
        return tileNode(memo.get(key)!, r, k);
      },
    };
    const memoHasher = tileHasher(withMemo);
    for (let t = 0; t < 100; t++) {
      const size = 1 + (randomBytes(4).readUInt32BE() % leaves.length);
      const index = randomBytes(4).readUInt32BE() % size;
      expect(memoHasher.hash(0, size).equals(reference.hash(0, size))).toBe(true);
      expect(inclusionProof(memoHasher, index, size)).toEqual(
        inclusionProof(reference, index, size),
      );
    }
    expect(memo.size).toBeGreaterThan(0);
  });

  it('refuses to integrate out of order', () => {
    const reader: TileReader = { tile: () => Buffer.alloc(0) };
    expect(() => integrate(reader, 5, [randomBytes(32)])).toThrow(/not filled/);
  });
});
