import { createHash } from 'node:crypto';
import { equalBytes } from '../crypto/bytes';

/**
 * Merkle tree hashing and proofs as RFC 9162 §2.1 defines them (the same as RFC 6962):
 * leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖ right), and for n leaves the split
 * point is the largest power of two smaller than n. Proof generation reads subtree hashes through a
 * `SubtreeHasher`, so the same code serves an in-memory tree and stored tiles.
 */

export type Hash = Buffer;

export const hashLeaf = (entry: Uint8Array): Hash =>
  createHash('sha256')
    .update(Buffer.from([0x00]))
    .update(entry)
    .digest();
export const hashChildren = (left: Uint8Array, right: Uint8Array): Hash =>
  createHash('sha256')
    .update(Buffer.from([0x01]))
    .update(left)
    .update(right)
    .digest();

/** The hash of an empty tree. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** Largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH of leaves [start, end): the only thing proof generation needs from storage. */
export interface SubtreeHasher {
  hash(start: number, end: number): Hash;
}

/** A SubtreeHasher over leaf hashes in memory (reference implementation; storage uses tiles). */
export function memoryHasher(leafHashes: Hash[]): SubtreeHasher {
  const memo = new Map<string, Hash>();
  const hash = (start: number, end: number): Hash => {
    const n = end - start;
    if (n === 1) return leafHashes[start]!;
    const key = `${start}:${end}`;
    const hit = memo.get(key);
    if (hit) return hit;
    const k = splitPoint(n);
    const h = hashChildren(hash(start, start + k), hash(start + k, end));
    memo.set(key, h);
    return h;
  };
  return { hash: (start, end) => (end === start ? EMPTY_ROOT : hash(start, end)) };
}

/** PATH(m, D[start:end]) of RFC 9162 §2.1.3.1: the inclusion proof of leaf `index` in a tree of `size`. */
export function inclusionProof(tree: SubtreeHasher, index: number, size: number): Hash[] {
  if (!(index >= 0 && index < size))
    throw new RangeError(`leaf index ${index} is outside a tree of size ${size}`);
  const path = (m: number, start: number, end: number): Hash[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...path(m, start, start + k), tree.hash(start + k, end)]
      : [...path(m - k, start + k, end), tree.hash(start, start + k)];
  };
  return path(index, 0, size);
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1: the consistency proof from size1 to size2. */
export function consistencyProof(tree: SubtreeHasher, size1: number, size2: number): Hash[] {
  if (!(size1 >= 0 && size1 <= size2))
    throw new RangeError(`cannot prove ${size1} consistent with ${size2}`);
  if (size1 === 0 || size1 === size2) return [];
  const subproof = (m: number, start: number, end: number, whole: boolean): Hash[] => {
    const n = end - start;
    if (m === n) return whole ? [] : [tree.hash(start, end)];
    const k = splitPoint(n);
    return m <= k
      ? [...subproof(m, start, start + k, whole), tree.hash(start + k, end)]
      : [...subproof(m - k, start + k, end, false), tree.hash(start, start + k)];
  };
  return subproof(size1, 0, size2, true);
}

export class ProofError extends Error {
  override name = 'ProofError';
}

export interface PathStep {
  sibling: Uint8Array;
  /** The sibling is the left child: node = H(0x01 ‖ sibling ‖ r), else H(0x01 ‖ r ‖ sibling). */
  siblingOnLeft: boolean;
}

/**
 * The hashing steps from a leaf to the root that an inclusion proof prescribes (RFC 9162
 * §2.1.3.2); throws ProofError when the proof's length cannot fit the tree.
 */
export function inclusionPath(index: number, size: number, proof: Uint8Array[]): PathStep[] {
  if (!(index >= 0 && index < size))
    throw new ProofError(`leaf index ${index} is outside a tree of size ${size}`);
  let fn = index;
  let sn = size - 1;
  const steps: PathStep[] = [];
  for (const p of proof) {
    if (sn === 0) throw new ProofError('inclusion proof is longer than the tree is deep');
    if (fn % 2 === 1 || fn === sn) {
      steps.push({ sibling: p, siblingOnLeft: true });
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      steps.push({ sibling: p, siblingOnLeft: false });
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError('inclusion proof is too short');
  return steps;
}

/** RFC 9162 §2.1.3.2. Throws ProofError naming what failed; returns on success. */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
  root: Uint8Array,
): void {
  let r: Hash = Buffer.from(leafHash);
  for (const step of inclusionPath(index, size, proof))
    r = step.siblingOnLeft ? hashChildren(step.sibling, r) : hashChildren(r, step.sibling);
  if (!equalBytes(r, root)) throw new ProofError('inclusion proof does not lead to the root');
}

/** RFC 9162 §2.1.4.2. Throws ProofError naming what failed; returns on success. */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  if (!(size1 >= 0 && size1 <= size2))
    throw new ProofError(`size ${size1} cannot precede size ${size2}`);
  if (size1 === size2) {
    if (proof.length) throw new ProofError('consistency proof between equal sizes must be empty');
    if (!equalBytes(root1, root2)) throw new ProofError('roots of equal sizes differ');
    return;
  }
  if (size1 === 0) {
    if (proof.length) throw new ProofError('consistency proof from an empty tree must be empty');
    return;
  }
  if (!proof.length) throw new ProofError('consistency proof is empty');
  // If size1 is a power of two, the first tree's root is the proof's implicit first element.
  const path = (size1 & (size1 - 1)) === 0 ? [Buffer.from(root1), ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Hash = Buffer.from(path[0]!);
  let sr: Hash = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) throw new ProofError('consistency proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError('consistency proof is too short');
  if (!equalBytes(fr, root1))
    throw new ProofError('consistency proof does not lead to the first root');
  if (!equalBytes(sr, root2))
    throw new ProofError('consistency proof does not lead to the second root');
}
