import {
  hashTreeRenewalImprint,
  parseEvidenceRecord,
  timestampRenewalImprint,
  withHashTreeRenewal,
  withTimestampRenewal,
} from '../../lib/evidence/evidence-record';
import { buildRequest, tokenOf, type Imprint } from '../../lib/tsa/client';
import { issueCertificate, type SignerIdentity } from '../../lib/tsa/dev-ca';
import { respond } from '../../lib/tsa/responder';

/**
 * Two independent dev TSAs with their own roots for evidence-record tests: one whose certificate
 * runs out soon (`validDays`), one that lasts. Tokens are made by the dev responder in process, at
 * any generation time the test names.
 */

export interface TestTsa {
  name: string;
  signer: SignerIdentity;
  caPem: string;
}

export async function testTsa(name: string, validDays: number): Promise<TestTsa> {
  // The root outlives the TSA certificate it issues (judging at a later date checks both).
  const ca = await issueCertificate({
    commonName: `${name} root`,
    isCa: true,
    timeStampingEku: false,
    validDays: Math.max(validDays + 1, 3650),
  });
  const signer = await issueCertificate({
    commonName: name,
    isCa: false,
    timeStampingEku: true,
    issuer: ca,
    validDays,
  });
  return { name, signer, caPem: ca.certPem };
}

/** A TimeStampToken (DER) from `tsa` over `over` (data: its SHA-256; or an imprint), made `at`. */
export async function stamp(
  tsa: TestTsa,
  over: Uint8Array | Imprint,
  at: Date,
): Promise<Uint8Array> {
  return tokenOf(await respond(buildRequest(over).der, { signer: tsa.signer, now: () => at }));
}

export const DAY = 86_400_000;

/** `record` with a timestamp renewal (RFC 4998 §5.2) by `tsa`, made `at`, in the chain's `alg`. */
export async function renewedBy(
  tsa: TestTsa,
  record: Uint8Array,
  alg: string,
  at: Date,
): Promise<Uint8Array> {
  const parsed = parseEvidenceRecord(record);
  return withTimestampRenewal(parsed, await stamp(tsa, timestampRenewalImprint(parsed, alg), at));
}

/** `record` with a hash-tree renewal (§5.3) to `alg` by `tsa` over `data`, made `at`. */
export async function rehashedBy(
  tsa: TestTsa,
  record: Uint8Array,
  data: Uint8Array,
  alg: string,
  at: Date,
): Promise<Uint8Array> {
  const parsed = parseEvidenceRecord(record);
  const token = await stamp(tsa, hashTreeRenewalImprint(parsed, data, alg), at);
  return withHashTreeRenewal(parsed, token, alg);
}
