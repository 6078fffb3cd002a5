import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  consistencyProof,
  EMPTY_ROOT,
  hashLeaf,
  inclusionProof,
  memoryHasher,
  ProofError,
  verifyConsistency,
  verifyInclusion,
} from '../../lib/ledger/merkle';

const dir = path.resolve(__dirname, '../fixtures/merkle');
const b64 = (s: string) => Buffer.from(s, 'base64');
const load = (prefix: string) =>
  readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .map((f) => [f, JSON.parse(readFileSync(path.join(dir, f), 'utf8'))] as const);

/** The RFC 6962 reference leaves the transparency-dev vectors are built from. */
const RFC6962_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => hashLeaf(Buffer.from(h, 'hex')));

describe('RFC 9162 Merkle proofs: transparency-dev/merkle vectors', () => {
  it.each(load('inclusion-'))('inclusion %s', (_f, v) => {
    const run = () =>
      verifyInclusion(
        b64(v.leafHash),
        v.leafIdx,
        v.treeSize,
        (v.proof ?? []).map(b64),
        b64(v.root),
      );
    if (v.wantErr) expect(run).toThrow(ProofError);
    else expect(run).not.toThrow();
  });

  it.each(load('consistency-'))('consistency %s', (_f, v) => {
    const run = () =>
      verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2));
    if (v.wantErr) expect(run).toThrow(ProofError);
    else expect(run).not.toThrow();
  });

  it('generates exactly the vectors’ happy-path proofs from the reference leaves', () => {
    for (const [, v] of load('inclusion-').filter(([f]) => f.includes('happy-path'))) {
      const tree = memoryHasher(RFC6962_LEAVES.slice(0, v.treeSize));
      expect(tree.hash(0, v.treeSize).toString('base64')).toBe(v.root);
      expect(inclusionProof(tree, v.leafIdx, v.treeSize).map((h) => h.toString('base64'))).toEqual(
        v.proof ?? [],
      );
    }
    for (const [, v] of load('consistency-').filter(([f]) => f.includes('happy-path'))) {
      const tree = memoryHasher(RFC6962_LEAVES.slice(0, v.size2));
      expect(tree.hash(0, v.size1).toString('base64')).toBe(v.root1);
      expect(consistencyProof(tree, v.size1, v.size2).map((h) => h.toString('base64'))).toEqual(
        v.proof ?? [],
      );
    }
  });
});

describe('RFC 9162 Merkle proofs: every size and index of random trees', () => {
  const leaves = Array.from({ length: 70 }, () => hashLeaf(randomBytes(20)));
  const tree = memoryHasher(leaves);

  it('verifies every inclusion proof and rejects it for a neighbouring leaf', () => {
    for (let size = 1; size <= leaves.length; size++) {
      const root = tree.hash(0, size);
      for (let i = 0; i < size; i++) {
        const proof = inclusionProof(tree, i, size);
        verifyInclusion(leaves[i]!, i, size, proof, root);
        if (size > 1)
          expect(() => verifyInclusion(leaves[(i + 1) % size]!, i, size, proof, root)).toThrow(
            ProofError,
          );
      }
    }
  });

  it('verifies every consistency proof and rejects a flipped bit', () => {
    for (let size2 = 1; size2 <= leaves.length; size2++) {
      for (let size1 = 0; size1 <= size2; size1++) {
        const proof = consistencyProof(tree, size1, size2);
        const root1 = size1 ? tree.hash(0, size1) : EMPTY_ROOT;
        verifyConsistency(size1, size2, proof, root1, tree.hash(0, size2));
        if (proof.length) {
          const bad = proof.map((p) => Buffer.from(p));
          bad[bad.length - 1]![0]! ^= 1;
          expect(() => verifyConsistency(size1, size2, bad, root1, tree.hash(0, size2))).toThrow(
            ProofError,
          );
        }
      }
    }
  });

  it('refuses out-of-range indices and sizes', () => {
    expect(() => inclusionProof(tree, 5, 5)).toThrow(RangeError);
    expect(() => consistencyProof(tree, 6, 5)).toThrow(RangeError);
    expect(() => verifyInclusion(leaves[0]!, 3, 3, [], tree.hash(0, 3))).toThrow(ProofError);
  });
});
