import { OID } from '../../lib/pki/oids';
import {
  evidenceRecord,
  parseEvidenceRecord,
  withHashTreeRenewal,
  withTimestampRenewal,
} from '../../lib/evidence/evidence-record';
import { bouncyCastleVerdict } from '../helpers/bouncycastle';
import { DAY, rehashedBy, renewedBy, stamp, testTsa, type TestTsa } from '../helpers/evidence-pki';

/**
 * Issue 23 §2: our evidence records — first timestamp, timestamp renewals, hash-tree renewals to
 * SHA-512 and SHA3-512 — validated by an independent RFC 4998 implementation, BouncyCastle's ERS
 * classes; and the tamperings it must refuse.
 */
describe('evidence records checked by BouncyCastle', () => {
  const data = Buffer.from('mailrepo anchor log\n7\nroot\n\n— sig\n');
  const now = new Date();
  const at = (days: number) => new Date(now.getTime() + days * DAY);
  let shortLived: TestTsa;
  let lasting: TestTsa;
  beforeAll(async () => {
    shortLived = await testTsa('TSA Eins', 30);
    lasting = await testTsa('TSA Zwei', 3650);
  });

  const renew = (record: Uint8Array, alg: string, when: Date) =>
    renewedBy(lasting, record, alg, when);
  const rehash = (record: Uint8Array, alg: string, when: Date) =>
    rehashedBy(lasting, record, data, alg, when);

  it('accepts the first timestamp, renewals and hash-tree renewals', async () => {
    const first = evidenceRecord(await stamp(shortLived, data, now));
    expect(bouncyCastleVerdict(first, data, at(1))).toBe('VALID 1');
    const renewed = await renew(first, OID.sha256, at(20));
    expect(bouncyCastleVerdict(renewed, data, at(60))).toBe('VALID 2');
    const twice = await renew(renewed, OID.sha256, at(21));
    expect(bouncyCastleVerdict(twice, data, at(60))).toBe('VALID 3');
    for (const alg of [OID.sha512, OID.sha3_512]) {
      const rehashed = await rehash(renewed, alg, at(22));
      expect(bouncyCastleVerdict(rehashed, data, at(400))).toBe('VALID 3');
      const then = await renew(rehashed, alg, at(23));
      expect(bouncyCastleVerdict(then, data, at(400))).toBe('VALID 4');
      // Hash-tree renewal of a record already renewed that way (three chains).
      const third = await rehash(then, OID.sha512, at(24));
      expect(bouncyCastleVerdict(third, data, at(400))).toBe('VALID 5');
    }
  }, 120_000);

  it('refuses other data, a renewal over something else, a new chain that misses the old', async () => {
    const first = evidenceRecord(await stamp(shortLived, data, now));
    expect(bouncyCastleVerdict(first, Buffer.from('other'), at(1))).toMatch(/^INVALID/);
    const stray = withTimestampRenewal(
      parseEvidenceRecord(first),
      await stamp(lasting, Buffer.from('unrelated'), at(20)),
    );
    expect(bouncyCastleVerdict(stray, data, at(60))).toMatch(/^INVALID/);
    const loose = withHashTreeRenewal(
      parseEvidenceRecord(first),
      await stamp(lasting, { alg: OID.sha512, digest: Buffer.alloc(64, 7) }, at(20)),
      OID.sha512,
    );
    expect(bouncyCastleVerdict(loose, data, at(60))).toMatch(/^INVALID/);
  }, 120_000);
});
