import { OID } from '../../lib/pki/oids';
import {
  evidenceRecord,
  parseEvidenceRecord,
  withHashTreeRenewal,
  withTimestampRenewal,
} from '../../lib/evidence/evidence-record';
import { verifyEvidenceRecord } from '../../lib/evidence/verify-evidence';
import { DAY, rehashedBy, renewedBy, stamp, testTsa, type TestTsa } from '../helpers/evidence-pki';

/**
 * RFC 4998 renewal (issue 23 §1, §2, §5): a record judged at a date after its TSA certificate
 * expired fails without renewal and holds with one made in time; hash-tree renewal to SHA-512 and
 * SHA3-512; each tampering fails at the timestamp it touches.
 */
describe('evidence record renewal', () => {
  const data = Buffer.from('mailrepo anchor log\n42\nroot hash\n\n— signature\n');
  const now = new Date();
  let shortLived: TestTsa;
  let lasting: TestTsa;
  let roots: string;
  let first: Uint8Array;

  beforeAll(async () => {
    shortLived = await testTsa('TSA Kurz', 30);
    lasting = await testTsa('TSA Lang', 3650);
    roots = shortLived.caPem + lasting.caPem;
    first = evidenceRecord(await stamp(shortLived, data, now));
  });

  const at = (days: number) => new Date(now.getTime() + days * DAY);
  const renewed = (record: Uint8Array, tsa: TestTsa, when: Date) =>
    renewedBy(tsa, record, OID.sha256, when);

  it('holds while the TSA certificate is valid, and not after it expired without renewal', async () => {
    const steps = await verifyEvidenceRecord(first, data, { caPem: roots, at: at(1) });
    expect(steps.map((s) => s.kind)).toEqual(['initial']);
    expect(steps[0]!.tsa).toMatch(/TSA Kurz/);
    await expect(verifyEvidenceRecord(first, data, { caPem: roots, at: at(60) })).rejects.toThrow(
      /archive timestamp 1 of chain 1: TSA certificate not trusted on/,
    );
  });

  it('a timestamp renewal by another TSA before expiry carries the evidence past it', async () => {
    const record = await renewed(first, lasting, at(20));
    const steps = await verifyEvidenceRecord(record, data, { caPem: roots, at: at(60) });
    expect(steps.map((s) => [s.kind, s.tsa.replace(/.*CN=/, '')])).toEqual([
      ['initial', 'TSA Kurz'],
      ['timestamp renewal', 'TSA Lang'],
    ]);
    // Made after the first certificate had expired, the renewal proves nothing for it.
    const late = await renewed(first, lasting, at(40));
    await expect(verifyEvidenceRecord(late, data, { caPem: roots, at: at(60) })).rejects.toThrow(
      /archive timestamp 1 of chain 1: TSA certificate not trusted on/,
    );
    // Without the second TSA's root, the renewal is not trusted.
    await expect(
      verifyEvidenceRecord(record, data, { caPem: shortLived.caPem, at: at(60) }),
    ).rejects.toThrow(/archive timestamp 2 of chain 1/);
  });

  it.each([
    ['SHA-512', OID.sha512],
    ['SHA3-512', OID.sha3_512],
  ])(
    'a hash-tree renewal to %s starts a chain over the data and the chains before',
    async (_, alg) => {
      const once = await renewed(first, lasting, at(20));
      const record = await rehashedBy(lasting, once, data, alg, at(25));
      expect(parseEvidenceRecord(record).digestAlgorithms).toEqual([OID.sha256, alg]);
      const steps = await verifyEvidenceRecord(record, data, { caPem: roots, at: at(400) });
      expect(steps.map((s) => [s.chain, s.kind, s.alg])).toEqual([
        [0, 'initial', OID.sha256],
        [0, 'timestamp renewal', OID.sha256],
        [1, 'hash-tree renewal', alg],
      ]);
      // And a timestamp renewal continues the new chain with its algorithm.
      const next = await renewedBy(lasting, record, alg, at(30));
      expect((await verifyEvidenceRecord(next, data, { caPem: roots, at: at(400) })).length).toBe(
        4,
      );
    },
  );

  it('fails at the timestamp a tampering touches', async () => {
    const record = await renewed(first, lasting, at(20));
    const parsed = parseEvidenceRecord(record);
    const check = (der: Uint8Array, over = data) =>
      verifyEvidenceRecord(der, over, { caPem: roots, at: at(60) });
    // Other data.
    await expect(check(record, Buffer.from('other'))).rejects.toThrow(
      /archive timestamp 1 of chain 1: token is over other data/,
    );
    // A renewal over something else than the token before it.
    const stray = await stamp(lasting, Buffer.from('unrelated'), at(20));
    await expect(check(withTimestampRenewal(parseEvidenceRecord(first), stray))).rejects.toThrow(
      /archive timestamp 2 of chain 1: token is over other data/,
    );
    // The two timestamps swapped: the renewal first, the original after it.
    const [original, renewal] = parsed.chains[0]!;
    const swapped = withTimestampRenewal({ ...parsed, chains: [[renewal!]] }, original!.tokenDer);
    await expect(check(swapped)).rejects.toThrow(/archive timestamp 2 of chain 1: is older/);
    // A hash-tree renewal whose chain does not cover the chains before it.
    const loose = await stamp(lasting, { alg: OID.sha512, digest: Buffer.alloc(64, 7) }, at(25));
    await expect(check(withHashTreeRenewal(parsed, loose, OID.sha512))).rejects.toThrow(
      /archive timestamp 1 of chain 2: token is over other data/,
    );
    // A renewal dated before the timestamp it renews.
    const early = await renewed(first, lasting, new Date(now.getTime() - DAY));
    await expect(check(early)).rejects.toThrow(/archive timestamp 2 of chain 1: is older/);
  });
});
