import { X509Certificate } from 'node:crypto';
import { readToken, verifyToken } from '../tsa/client';
import {
  digestWith,
  EvidenceRecordError,
  hashTreeRoot,
  parseEvidenceRecord,
} from './evidence-record';

/**
 * Validates an RFC 4998 evidence record over one data object at a date (RFC 4998 §5.3): every
 * ArchiveTimeStamp is over what it must be (the data, the previous token, or the data and the
 * chains before), each token's signature and TSA chain hold at its own time and still at the time
 * of the timestamp that renewed it, and the last one's at `at`. A record whose TSA certificate
 * expired before `at` without a renewal therefore fails; with one made in time, it holds.
 */

export interface EvidenceStep {
  chain: number;
  position: number;
  kind: 'initial' | 'timestamp renewal' | 'hash-tree renewal';
  genTime: Date;
  /** Digest algorithm (OID) of the chain. */
  alg: string;
  /** The TSA's signing certificate subject. */
  tsa: string;
  /** Its end of validity: the record needs a renewal before then. */
  validUntil: Date;
}

export class EvidenceVerifyError extends Error {
  override name = 'EvidenceVerifyError';
}

export async function verifyEvidenceRecord(
  der: Uint8Array,
  data: Uint8Array,
  opts: { caPem: string; at: Date },
): Promise<EvidenceStep[]> {
  const record = parseEvidenceRecord(der);
  const flat = record.chains.flatMap((c, chain) =>
    c.map((ats, position) => ({ chain, position, ats })),
  );
  const named = (i: number) =>
    `archive timestamp ${flat[i]!.position + 1} of chain ${flat[i]!.chain + 1}`;
  const failAt = (i: number, why: string): never => {
    throw new EvidenceVerifyError(`${named(i)}: ${why}`);
  };
  // What each token says of itself first: the order of times is checked before any chain is
  // judged at the time of the next one.
  const tokens = flat.map(({ ats }, i) => {
    if (ats.reducedHashtree)
      failAt(i, 'has a reduced hash tree; records over one object have none');
    try {
      return readToken(ats.tokenDer);
    } catch (e) {
      return failAt(i, `unreadable token (${(e as Error).message})`);
    }
  });
  tokens.forEach((t, i) => {
    if (i > 0 && t.genTime < tokens[i - 1]!.genTime)
      failAt(i, 'is older than the timestamp it renews');
    if (t.genTime > opts.at) failAt(i, `was made after ${opts.at.toISOString()}`);
  });

  const steps: EvidenceStep[] = [];
  for (let i = 0; i < flat.length; i++) {
    const { chain, position } = flat[i]!;
    const token = tokens[i]!;
    const chainAlg = position === 0 ? token.imprint.alg : steps[steps.length - 1]!.alg;
    if (token.imprint.alg !== chainAlg) failAt(i, 'uses another digest algorithm than its chain');
    if (!record.digestAlgorithms.includes(chainAlg))
      failAt(i, `digest algorithm ${chainAlg} is not among the record's digestAlgorithms`);
    let expected: Buffer;
    try {
      expected =
        position > 0
          ? digestWith(chainAlg, record.chains[chain]![position - 1]!.tokenDer)
          : chain === 0
            ? digestWith(chainAlg, data)
            : hashTreeRoot(record.chains.slice(0, chain), data, chainAlg);
    } catch (e) {
      return failAt(i, (e as EvidenceRecordError).message);
    }
    try {
      await verifyToken(flat[i]!.ats.tokenDer, {
        imprint: { alg: chainAlg, digest: expected },
        caPem: opts.caPem,
        validAt: tokens[i + 1]?.genTime ?? opts.at,
      });
    } catch (e) {
      failAt(i, (e as Error).message);
    }
    steps.push({
      chain,
      position,
      kind: position > 0 ? 'timestamp renewal' : chain > 0 ? 'hash-tree renewal' : 'initial',
      genTime: token.genTime,
      alg: chainAlg,
      tsa: new X509Certificate(token.signerCertDer).subject.replace(/\n/g, ', '),
      validUntil: token.notAfter,
    });
  }
  return steps;
}
