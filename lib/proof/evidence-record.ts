import * as asn1js from 'asn1js';
import { ab } from '../pki/pem';
import { OID } from '../pki/oids';

/**
 * RFC 4998 Evidence Record (module ERS, IMPLICIT TAGS) holding one ArchiveTimeStamp whose
 * timestamp is over a single data object — the anchor checkpoint — so it needs no reduced hash
 * tree: the token's imprint is SHA-256 of the object itself (RFC 4998 §5.3, step 1).
 *
 *   EvidenceRecord ::= SEQUENCE { version INTEGER (1), digestAlgorithms SEQUENCE OF
 *     AlgorithmIdentifier, archiveTimeStampSequence SEQUENCE OF SEQUENCE OF ArchiveTimeStamp }
 *   ArchiveTimeStamp ::= SEQUENCE { ..., timeStamp ContentInfo }
 */

export class EvidenceRecordError extends Error {
  override name = 'EvidenceRecordError';
}

const sha256Alg = () =>
  new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.sha256 })] });

/** An evidence record around `tokenDer` (a TimeStampToken, i.e. a CMS ContentInfo). */
export function evidenceRecord(tokenDer: Uint8Array): Uint8Array {
  const token = asn1js.fromBER(ab(tokenDer));
  if (token.offset === -1) throw new EvidenceRecordError('token is not DER');
  const ats = new asn1js.Sequence({ value: [token.result] });
  const er = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.Sequence({ value: [sha256Alg()] }),
      new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [ats] })] }),
    ],
  });
  return new Uint8Array(er.toBER(false));
}

export interface ParsedEvidenceRecord {
  digestAlgorithms: string[];
  /** Each chain's ArchiveTimeStamps: the reduced hash tree (if any) and the token's DER. */
  chains: { reducedHashtree: Buffer[][] | null; tokenDer: Uint8Array }[][];
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
  if (!chains.length || !chains[0]!.length)
    throw new EvidenceRecordError('evidence record holds no archive timestamp');
  return { digestAlgorithms, chains };
}
