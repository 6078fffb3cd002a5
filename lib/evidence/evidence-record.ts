import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { ab } from '../pki/pem';
import { NODE_HASH_BY_OID, OID } from '../pki/oids';

/**
 * RFC 4998 Evidence Records (module ERS, IMPLICIT TAGS) over one data object — the anchor
 * checkpoint — so no ArchiveTimeStamp needs a reduced hash tree, and none names its digest
 * algorithm: it is the imprint's (RFC 4998 §4.2).
 *
 *   EvidenceRecord ::= SEQUENCE { version INTEGER (1), digestAlgorithms SEQUENCE OF
 *     AlgorithmIdentifier, archiveTimeStampSequence SEQUENCE OF SEQUENCE OF ArchiveTimeStamp }
 *   ArchiveTimeStamp ::= SEQUENCE { ..., timeStamp ContentInfo }
 *
 * What each ArchiveTimeStamp's token is over (its imprint, with its chain's algorithm H):
 * - the first of the first chain: H(data);
 * - a timestamp renewal (§5.2), the next in a chain: H(the previous token, as stored);
 * - a hash-tree renewal (§5.3), the first of a new chain: H(H(data) ‖ H(the
 *   ArchiveTimeStampSequence before it)), the order BouncyCastle uses.
 * Records are written in DER with the tokens embedded byte for byte, so the hashes above are over
 * the same bytes whoever re-encodes them.
 */

export class EvidenceRecordError extends Error {
  override name = 'EvidenceRecordError';
}

/** Digest algorithms a chain may use. */
export const ERS_DIGESTS = {
  sha256: OID.sha256,
  sha512: OID.sha512,
  'sha3-512': OID.sha3_512,
} as const;
export type ErsDigest = keyof typeof ERS_DIGESTS;

export const isErsDigest = (s: string): s is ErsDigest => s in ERS_DIGESTS;

/** H(parts…) with the algorithm `oid`. */
export function digestWith(oid: string, ...parts: Uint8Array[]): Buffer {
  const name = NODE_HASH_BY_OID[oid];
  if (!name || !Object.values(ERS_DIGESTS).includes(oid as never))
    throw new EvidenceRecordError(`digest algorithm ${oid} is not one an evidence record may use`);
  const h = createHash(name);
  for (const p of parts) h.update(p);
  return h.digest();
}

// --- DER, written by hand so tokens stay byte-exact ---------------------------------------------

function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  let head: number[];
  if (n < 0x80) head = [tag, n];
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    head = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(head), content]);
}

const seqOf = (items: Uint8Array[]) => tlv(0x30, Buffer.concat(items));
const algorithmIdentifier = (oid: string) =>
  Buffer.from(
    new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid })] }).toBER(false),
  );

/** An ArchiveTimeStamp holding only its token. */
const archiveTimeStamp = (tokenDer: Uint8Array) => seqOf([tokenDer]);
const chainDer = (chain: readonly ArchiveTimeStamp[]) =>
  seqOf(chain.map((a) => archiveTimeStamp(a.tokenDer)));

/** DER of an ArchiveTimeStampSequence: what a hash-tree renewal covers. */
export const sequenceDer = (chains: readonly (readonly ArchiveTimeStamp[])[]) =>
  seqOf(chains.map(chainDer));

function encode(digestAlgorithms: readonly string[], chains: ArchiveTimeStamp[][]): Uint8Array {
  return new Uint8Array(
    seqOf([
      Buffer.from([0x02, 0x01, 0x01]),
      seqOf(digestAlgorithms.map(algorithmIdentifier)),
      sequenceDer(chains),
    ]),
  );
}

// --- reading ------------------------------------------------------------------------------------

export interface ArchiveTimeStamp {
  /** Present only in records written elsewhere; ours never need one. */
  reducedHashtree: Buffer[][] | null;
  /** The token (a CMS ContentInfo), exactly as stored. */
  tokenDer: Uint8Array;
}

export interface ParsedEvidenceRecord {
  /** OIDs. */
  digestAlgorithms: string[];
  /** Each ArchiveTimeStampChain, oldest first; a chain's timestamps oldest first. */
  chains: ArchiveTimeStamp[][];
}

function seq(node: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (!(node instanceof asn1js.Sequence))
    throw new EvidenceRecordError(`${what} is not a SEQUENCE`);
  return node.valueBlock.value;
}

export function parseEvidenceRecord(der: Uint8Array): ParsedEvidenceRecord {
  const parsed = asn1js.fromBER(ab(der));
  if (parsed.offset === -1 || parsed.offset !== der.length)
    throw new EvidenceRecordError('evidence record is not one DER value');
  const [version, algs, ...rest] = seq(parsed.result, 'EvidenceRecord');
  if (!(version instanceof asn1js.Integer) || version.valueBlock.valueDec !== 1)
    throw new EvidenceRecordError('evidence record version is not 1');
  const digestAlgorithms = seq(algs, 'digestAlgorithms').map((a) => {
    const oid = seq(a, 'AlgorithmIdentifier')[0];
    if (!(oid instanceof asn1js.ObjectIdentifier))
      throw new EvidenceRecordError('AlgorithmIdentifier has no OID');
    return oid.valueBlock.toString();
  });
  // cryptoInfos [0] and encryptionInfo [1] may precede the sequence; we write neither.
  const atsSeq = rest.find((n) => n.idBlock.tagClass === 1);
  const chains = seq(atsSeq, 'ArchiveTimeStampSequence').map((chain) =>
    seq(chain, 'ArchiveTimeStampChain').map((ats) => {
      const fields = seq(ats, 'ArchiveTimeStamp');
      const token = fields[fields.length - 1];
      if (!(token instanceof asn1js.Sequence))
        throw new EvidenceRecordError('ArchiveTimeStamp has no timeStamp ContentInfo');
      const tree = fields.find((f) => f.idBlock.tagClass === 3 && f.idBlock.tagNumber === 2);
      const reducedHashtree = tree
        ? (tree as asn1js.Constructed).valueBlock.value.map((partial) =>
            seq(partial, 'PartialHashtree').map((h) =>
              Buffer.from((h as asn1js.OctetString).valueBlock.valueHexView),
            ),
          )
        : null;
      // The exact bytes as stored: re-encoding could differ from what the TSA signed around.
      return { reducedHashtree, tokenDer: new Uint8Array(token.valueBeforeDecodeView) };
    }),
  );
  if (!chains.length || chains.some((c) => !c.length))
    throw new EvidenceRecordError('evidence record holds an empty archive timestamp chain');
  return { digestAlgorithms, chains };
}

// --- writing and renewing -----------------------------------------------------------------------

/** A new record: one ArchiveTimeStamp whose token (imprint with `alg`) is over the data object. */
export function evidenceRecord(tokenDer: Uint8Array, alg: string = OID.sha256): Uint8Array {
  if (asn1js.fromBER(ab(tokenDer)).offset === -1) throw new EvidenceRecordError('token is not DER');
  return encode([alg], [[{ reducedHashtree: null, tokenDer }]]);
}

/** The imprint a timestamp renewal (§5.2) asks a TSA for: over the chain's last token. */
export function timestampRenewalImprint(
  record: ParsedEvidenceRecord,
  chainAlg: string,
): { alg: string; digest: Buffer } {
  const chain = record.chains[record.chains.length - 1]!;
  return { alg: chainAlg, digest: digestWith(chainAlg, chain[chain.length - 1]!.tokenDer) };
}

/** The imprint a hash-tree renewal (§5.3) to `alg` asks a TSA for. */
export function hashTreeRenewalImprint(
  record: ParsedEvidenceRecord,
  data: Uint8Array,
  alg: string,
): { alg: string; digest: Buffer } {
  return { alg, digest: hashTreeRoot(record.chains, data, alg) };
}

/** H(H(data) ‖ H(the chains before)): what the first timestamp of a later chain is over. */
export function hashTreeRoot(
  before: readonly (readonly ArchiveTimeStamp[])[],
  data: Uint8Array,
  alg: string,
): Buffer {
  return digestWith(alg, digestWith(alg, data), digestWith(alg, sequenceDer(before)));
}

/** The record with `tokenDer` (a timestamp renewal's) appended to its last chain. */
export function withTimestampRenewal(
  record: ParsedEvidenceRecord,
  tokenDer: Uint8Array,
): Uint8Array {
  const chains = record.chains.map((c) => [...c]);
  chains[chains.length - 1]!.push({ reducedHashtree: null, tokenDer });
  return encode(record.digestAlgorithms, chains);
}

/** The record with a new chain starting with `tokenDer` (a hash-tree renewal's, imprint `alg`). */
export function withHashTreeRenewal(
  record: ParsedEvidenceRecord,
  tokenDer: Uint8Array,
  alg: string,
): Uint8Array {
  const algs = record.digestAlgorithms.includes(alg)
    ? record.digestAlgorithms
    : [...record.digestAlgorithms, alg];
  return encode(algs, [...record.chains, [{ reducedHashtree: null, tokenDer }]]);
}
