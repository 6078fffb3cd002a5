import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { evidenceRecord, parseEvidenceRecord } from '../../lib/evidence/evidence-record';
import { formatTlogProof, parseTlogProof, TlogProofError } from '../../lib/proof/tlog-proof';
import { OID } from '../../lib/pki/oids';

const h = (s: string) => createHash('sha256').update(s).digest();
const note =
  'example.com/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 example.com/log AAAA\n';

describe('C2SP tlog-proof', () => {
  it('round-trips, with and without extra data', () => {
    const p = { index: 2, proof: [h('a'), h('b')], checkpoint: note };
    const text = formatTlogProof(p);
    expect(text.split('\n').slice(0, 4)).toEqual([
      'c2sp.org/tlog-proof@v1',
      'index 2',
      h('a').toString('base64'),
      h('b').toString('base64'),
    ]);
    expect(text.endsWith(`\n\n${note}`)).toBe(true);
    expect(parseTlogProof(text)).toEqual(p);
    const withExtra = { ...p, extra: Buffer.from('ctx') };
    expect(formatTlogProof(withExtra).split('\n')[1]).toBe('extra Y3R4');
    expect(parseTlogProof(formatTlogProof(withExtra))).toEqual(withExtra);
  });

  it('accepts an empty proof (a one-entry tree)', () => {
    expect(
      parseTlogProof(formatTlogProof({ index: 0, proof: [], checkpoint: note })).proof,
    ).toEqual([]);
  });

  it.each([
    ['c2sp.org/tlog-proof@v2\nindex 1\n\n' + note, /first line/],
    ['c2sp.org/tlog-proof@v1\nindex 01\n\n' + note, /index line/],
    ['c2sp.org/tlog-proof@v1\nindex 1\nnot-a-hash\n\n' + note, /proof line 1/],
    ['c2sp.org/tlog-proof@v1\nindex 1\n', /no checkpoint/],
  ])('rejects %j', (text, why) => {
    expect(() => parseTlogProof(text)).toThrow(TlogProofError);
    expect(() => parseTlogProof(text)).toThrow(why);
  });
});

describe('RFC 4998 evidence record', () => {
  // Any ContentInfo-shaped DER stands in for a token; the structure around it is what's tested.
  const token = new Uint8Array(
    new asn1js.Sequence({
      value: [
        new asn1js.ObjectIdentifier({ value: OID.signedData }),
        new asn1js.Constructed({
          idBlock: { tagClass: 3, tagNumber: 0 },
          value: [new asn1js.Sequence({ value: [new asn1js.Integer({ value: 3 })] })],
        }),
      ],
    }).toBER(false),
  );

  it('holds one ArchiveTimeStamp with the token, SHA-256, version 1, no hash tree', () => {
    const der = evidenceRecord(token);
    const er = parseEvidenceRecord(der);
    expect(er.digestAlgorithms).toEqual([OID.sha256]);
    expect(er.chains).toHaveLength(1);
    expect(er.chains[0]).toHaveLength(1);
    expect(er.chains[0]![0]!.reducedHashtree).toBeNull();
    expect(Buffer.from(er.chains[0]![0]!.tokenDer)).toEqual(Buffer.from(token));
    // The token is the record's last bytes (VERIFY.md cuts it out with `tail -c`).
    expect(Buffer.from(der.subarray(der.length - token.length))).toEqual(Buffer.from(token));
    // Version INTEGER 1 right after the outer header; digestAlgorithms = { sha256 }.
    const outer = asn1js.fromBER(der).result as asn1js.Sequence;
    expect((outer.valueBlock.value[0] as asn1js.Integer).valueBlock.valueDec).toBe(1);
  });

  it('rejects trailing bytes and a wrong version', () => {
    const der = evidenceRecord(token);
    expect(() => parseEvidenceRecord(Buffer.concat([der, Buffer.from([0])]))).toThrow(
      /one DER value/,
    );
    const v2 = Buffer.from(der);
    const at = v2.indexOf(Buffer.from([0x02, 0x01, 0x01]));
    v2[at + 2] = 2;
    expect(() => parseEvidenceRecord(v2)).toThrow(/version/);
  });
});
