import { createHash, timingSafeEqual } from 'node:crypto';
import * as asn1js from 'asn1js';
import { pkijs } from '../pki/pkijs-engine';
import { OID } from '../pki/oids';
import { ab, fromPem } from '../pki/pem';
import { positiveRandom } from '../pki/positive-random';

/**
 * RFC 3161 client. pkijs verifies the CMS signature, the messageDigest attribute and the chain; it
 * does not check the nonce, the imprint against *our* request, the TSA certificate's EKU, the ESS
 * signing-certificate binding or the policy. We check all of them and accept a token only if every
 * check passes.
 */

export class TsaError extends Error {
  override name = 'TsaError';
  constructor(
    readonly reason:
      | 'transport'
      | 'rejected'
      | 'malformed'
      | 'imprint'
      | 'nonce'
      | 'policy'
      | 'eku'
      | 'ess'
      | 'signature'
      | 'chain',
    message: string,
  ) {
    super(message);
  }
}

export interface TimestampRequest {
  der: Uint8Array;
  nonce: Uint8Array;
}

export interface VerifiedTimestamp {
  genTime: Date;
  serialHex: string;
  policy: string;
  /** DER of the whole TimeStampResp, as stored in proof bundles. */
  responseDer: Uint8Array;
  /** DER of the TSA's signing certificate. */
  signerCertDer: Uint8Array;
}

/** A message imprint: the digest a token must carry, and its algorithm (OID). */
export interface Imprint {
  alg: string;
  digest: Uint8Array;
}

export interface VerifyOptions {
  /** The data the token is over (its SHA-256 imprint) … */
  data?: Uint8Array;
  /** … or the imprint itself (an evidence record's renewal, another algorithm). */
  imprint?: Imprint;
  /**
   * Besides at the token's own time, the chain must also hold at this later date: the time of the
   * renewal that took over from this token, or the date the evidence is judged at (RFC 4998 §5.3).
   */
  validAt?: Date;
  /** The request's nonce; omitted when checking a stored token later. */
  nonce?: Uint8Array;
  /** Trusted root(s), PEM. */
  caPem: string;
  policy?: string;
}

const sha256 = (b: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(b).digest());
const same = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && timingSafeEqual(a, b);
const stripZeros = (b: Uint8Array): Uint8Array => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The SHA-256 imprint of `data`, or `imprint` as given. */
const imprintOf = (o: { data?: Uint8Array; imprint?: Imprint }): Imprint => {
  if (o.imprint) return o.imprint;
  if (!o.data) throw new TsaError('imprint', 'neither data nor an imprint to check');
  return { alg: OID.sha256, digest: sha256(o.data) };
};

export function buildRequest(
  data: Uint8Array | Imprint,
  opts: { policy?: string } = {},
): TimestampRequest {
  const { alg, digest } = data instanceof Uint8Array ? imprintOf({ data }) : data;
  const nonce = positiveRandom(8);
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: alg }),
      hashedMessage: new asn1js.OctetString({ valueHex: ab(digest) }),
    }),
    nonce: new asn1js.Integer({ valueHex: ab(nonce) }),
    certReq: true,
    ...(opts.policy ? { reqPolicy: opts.policy } : {}),
  });
  return { der: new Uint8Array(req.toSchema().toBER(false)), nonce };
}

function octets(v: asn1js.OctetString): Uint8Array {
  // eContent may be a constructed OCTET STRING (BER); concatenate its pieces.
  if (v.idBlock.isConstructed) {
    return Buffer.concat((v.valueBlock.value as asn1js.OctetString[]).map(octets));
  }
  return new Uint8Array(v.valueBlock.valueHexView);
}

function findSignerCert(sd: pkijs.SignedData): pkijs.Certificate {
  const si = sd.signerInfos[0]!;
  const certs = (sd.certificates ?? []).filter(
    (c): c is pkijs.Certificate => c instanceof pkijs.Certificate,
  );
  const sid = si.sid;
  const match = certs.find((c) => {
    if (sid instanceof pkijs.IssuerAndSerialNumber) {
      return c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber);
    }
    const skiExt = c.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier);
    const ski =
      skiExt &&
      (asn1js.fromBER(skiExt.extnValue.valueBlock.valueHexView).result as asn1js.OctetString);
    return (
      !!ski &&
      same(
        new Uint8Array(ski.valueBlock.valueHexView),
        new Uint8Array((sid as asn1js.OctetString).valueBlock.valueHexView),
      )
    );
  });
  if (!match) throw new TsaError('malformed', 'token does not include the TSA signing certificate');
  return match;
}

function checkEku(cert: pkijs.Certificate): void {
  const ext = cert.extensions?.filter((e) => e.extnID === OID.extKeyUsage) ?? [];
  if (ext.length !== 1) throw new TsaError('eku', 'TSA certificate has no extendedKeyUsage');
  const eku = new pkijs.ExtKeyUsage({
    schema: asn1js.fromBER(ext[0]!.extnValue.valueBlock.valueHexView).result,
  });
  // RFC 3161 §2.3: exactly id-kp-timeStamping, and the extension MUST be critical.
  if (!ext[0]!.critical)
    throw new TsaError('eku', 'TSA certificate extendedKeyUsage is not critical');
  if (eku.keyPurposes.length !== 1 || eku.keyPurposes[0] !== OID.kpTimeStamping)
    throw new TsaError('eku', 'TSA certificate extendedKeyUsage is not timeStamping only');
}

function checkEssBinding(si: pkijs.SignerInfo, cert: pkijs.Certificate): void {
  const attrs = si.signedAttrs?.attributes ?? [];
  const certDer = new Uint8Array(cert.toSchema(true).toBER(false));
  const v2 = attrs.find((a) => a.type === OID.signingCertificateV2);
  const v1 = attrs.find((a) => a.type === OID.signingCertificate);
  if (!v2 && !v1) throw new TsaError('ess', 'token has no ESS signing-certificate attribute');
  const first = (v2 ?? v1)!.values[0] as asn1js.Sequence;
  const certs = first.valueBlock.value[0] as asn1js.Sequence;
  const certId = certs.valueBlock.value[0] as asn1js.Sequence;
  if (!certId) throw new TsaError('ess', 'ESS attribute lists no certificate');
  let hashName = v2 ? 'sha256' : 'sha1';
  let hashField = certId.valueBlock.value[0]!;
  if (v2 && hashField instanceof asn1js.Sequence) {
    const alg = new pkijs.AlgorithmIdentifier({ schema: hashField });
    hashName =
      { [OID.sha256]: 'sha256', [OID.sha384]: 'sha384', [OID.sha512]: 'sha512' }[alg.algorithmId] ??
      '';
    if (!hashName) throw new TsaError('ess', `ESS hash algorithm ${alg.algorithmId} not supported`);
    hashField = certId.valueBlock.value[1]!;
  }
  const expected = new Uint8Array(createHash(hashName).update(certDer).digest());
  if (!(hashField instanceof asn1js.OctetString) || !same(octets(hashField), expected))
    throw new TsaError('ess', 'ESS certificate hash does not match the signing certificate');
  const ct = attrs.find((a) => a.type === OID.contentType);
  if (!ct || (ct.values[0] as asn1js.ObjectIdentifier).valueBlock.toString() !== OID.tstInfo)
    throw new TsaError('malformed', 'contentType attribute is not id-ct-TSTInfo');
}

/** The status of a TimeStampResp, then its token, through every check of verifyToken. */
export async function verifyResponse(
  respDer: Uint8Array,
  opts: VerifyOptions,
): Promise<VerifiedTimestamp> {
  let resp: pkijs.TimeStampResp;
  try {
    resp = pkijs.TimeStampResp.fromBER(ab(respDer));
  } catch {
    throw new TsaError('malformed', 'response is not a DER TimeStampResp');
  }
  if (resp.status.status !== 0 && resp.status.status !== 1) {
    const text = resp.status.statusStrings?.map((s) => s.valueBlock.value).join('; ') ?? '';
    throw new TsaError(
      'rejected',
      `TSA refused the request (status ${resp.status.status}) ${text}`.trim(),
    );
  }
  if (!resp.timeStampToken) throw new TsaError('malformed', 'response carries no token');
  const verified = await verifyToken(resp.timeStampToken, opts);
  return { ...verified, responseDer: respDer };
}

/** DER of the TimeStampToken (a CMS ContentInfo) inside a TimeStampResp. */
export function tokenOf(respDer: Uint8Array): Uint8Array {
  const resp = pkijs.TimeStampResp.fromBER(ab(respDer));
  if (!resp.timeStampToken) throw new TsaError('malformed', 'response carries no token');
  return new Uint8Array(resp.timeStampToken.toSchema().toBER(false));
}

/** Every certificate a token carries, DER, in the order the TSA sent them. */
export function tokenCertificates(token: pkijs.ContentInfo | Uint8Array): Uint8Array[] {
  const ci = token instanceof Uint8Array ? pkijs.ContentInfo.fromBER(ab(token)) : token;
  const sd = new pkijs.SignedData({ schema: ci.content });
  return (sd.certificates ?? [])
    .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
    .map((c) => new Uint8Array(c.toSchema(true).toBER(false)));
}

/**
 * Checks a TimeStampToken: imprint over `data`, the nonce (when given: stored tokens are checked
 * without it), policy, the TSA certificate's EKU and ESS binding, the signature and the chain to
 * `caPem` at the token's time.
 */
export async function verifyToken(
  token: pkijs.ContentInfo | Uint8Array,
  opts: VerifyOptions,
): Promise<Omit<VerifiedTimestamp, 'responseDer'>> {
  let ci: pkijs.ContentInfo;
  try {
    ci = token instanceof Uint8Array ? pkijs.ContentInfo.fromBER(ab(token)) : token;
  } catch {
    throw new TsaError('malformed', 'token is not a DER ContentInfo');
  }
  if (ci.contentType !== OID.signedData)
    throw new TsaError('malformed', 'token is not a SignedData');
  const sd = new pkijs.SignedData({ schema: ci.content });
  if (sd.encapContentInfo.eContentType !== OID.tstInfo || !sd.encapContentInfo.eContent)
    throw new TsaError('malformed', 'token content is not a TSTInfo');
  if (sd.signerInfos.length !== 1)
    throw new TsaError('malformed', 'token must have exactly one signer');
  const tstDer = octets(sd.encapContentInfo.eContent);
  // pkijs re-wraps a parsed eContent as a constructed OCTET STRING, which its own TSTInfo check in
  // SignedData.verify cannot read; hand it the primitive form (same bytes, same digest).
  sd.encapContentInfo.eContent = new asn1js.OctetString({ valueHex: ab(tstDer) });
  let tst: pkijs.TSTInfo;
  try {
    tst = pkijs.TSTInfo.fromBER(ab(tstDer));
  } catch {
    throw new TsaError('malformed', 'token content is not a valid TSTInfo');
  }

  const expected = imprintOf(opts);
  if (tst.messageImprint.hashAlgorithm.algorithmId !== expected.alg)
    throw new TsaError(
      'imprint',
      `token imprint uses ${tst.messageImprint.hashAlgorithm.algorithmId}, not ${expected.alg}`,
    );
  if (
    !same(new Uint8Array(tst.messageImprint.hashedMessage.valueBlock.valueHexView), expected.digest)
  )
    throw new TsaError('imprint', 'token is over other data');
  if (
    opts.nonce &&
    (!tst.nonce ||
      !same(stripZeros(new Uint8Array(tst.nonce.valueBlock.valueHexView)), stripZeros(opts.nonce)))
  )
    throw new TsaError('nonce', 'token nonce does not match the request');
  if (opts.policy && tst.policy !== opts.policy)
    throw new TsaError('policy', `token policy ${tst.policy} is not the required ${opts.policy}`);

  const signerCert = findSignerCert(sd);
  checkEku(signerCert);
  checkEssBinding(sd.signerInfos[0]!, signerCert);

  const trusted = fromPem('CERTIFICATE', opts.caPem).map((d) => pkijs.Certificate.fromBER(ab(d)));
  if (!trusted.length) throw new TsaError('chain', 'no trusted TSA CA certificate configured');
  // pkijs treats a TSTInfo content itself: it checks the imprint with Web Crypto (no SHA-3) and
  // judges the chain only at genTime. Both are done here; pkijs checks the CMS signature, the
  // messageDigest attribute and the chain at the dates asked for. (The signed contentType
  // attribute, id-ct-TSTInfo, was checked above; the eContentType field is not signed.)
  sd.encapContentInfo.eContentType = OID.data;
  // The chain must hold when the token was made, and (renewals, judging at a date) still later.
  for (const checkDate of opts.validAt ? [tst.genTime, opts.validAt] : [tst.genTime]) {
    let result: pkijs.SignedDataVerifyResult;
    try {
      result = await sd.verify({
        signer: 0,
        trustedCerts: trusted,
        checkChain: true,
        checkDate,
        extendedMode: true,
      });
    } catch (e) {
      const r = e as pkijs.SignedDataVerifyResult & { message?: string };
      if (r.signatureVerified === false)
        throw new TsaError('signature', `token signature invalid: ${r.message}`);
      const when = checkDate === tst.genTime ? '' : ` on ${checkDate.toISOString()}`;
      throw new TsaError('chain', `TSA certificate not trusted${when}: ${r.message ?? String(e)}`);
    }
    if (!result.signatureVerified) throw new TsaError('signature', 'token signature invalid');
    if (!result.signerCertificateVerified)
      throw new TsaError('chain', 'TSA certificate not trusted');
  }

  return {
    genTime: tst.genTime,
    serialHex: hex(new Uint8Array(tst.serialNumber.valueBlock.valueHexView)),
    policy: tst.policy,
    signerCertDer: new Uint8Array(signerCert.toSchema(true).toBER(false)),
  };
}

/** What a stored token says of itself, unverified: for scheduling renewals, never as proof. */
export function readToken(tokenDer: Uint8Array): {
  imprint: Imprint;
  genTime: Date;
  signerCertDer: Uint8Array;
  /** The signing certificate's end of validity. */
  notAfter: Date;
} {
  const ci = pkijs.ContentInfo.fromBER(ab(tokenDer));
  const sd = new pkijs.SignedData({ schema: ci.content });
  const tst = pkijs.TSTInfo.fromBER(ab(octets(sd.encapContentInfo.eContent!)));
  const signer = findSignerCert(sd);
  return {
    imprint: {
      alg: tst.messageImprint.hashAlgorithm.algorithmId,
      digest: new Uint8Array(tst.messageImprint.hashedMessage.valueBlock.valueHexView),
    },
    genTime: tst.genTime,
    signerCertDer: new Uint8Array(signer.toSchema(true).toBER(false)),
    notAfter: signer.notAfter.value,
  };
}

export interface TsaClientOptions {
  url: string;
  caPem: string;
  policy?: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
  /** Attempts on transport errors and 5xx; rejected or invalid tokens are never retried. */
  attempts?: number;
  backoffMs?: number;
}

/** Requests a timestamp over `data` and returns it only after every check in verifyResponse. */
export async function requestTimestamp(
  data: Uint8Array | Imprint,
  opts: TsaClientOptions,
): Promise<VerifiedTimestamp> {
  const req = buildRequest(data, { policy: opts.policy });
  const headers: Record<string, string> = { 'content-type': 'application/timestamp-query' };
  if (opts.username !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
  const attempts = opts.attempts ?? 3;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetch(opts.url, {
        method: 'POST',
        headers,
        body: ab(req.der),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      if (res.status >= 500) throw new TsaError('transport', `TSA answered HTTP ${res.status}`);
      if (!res.ok) throw new TsaError('rejected', `TSA answered HTTP ${res.status}`);
      const type = res.headers.get('content-type') ?? '';
      if (!type.startsWith('application/timestamp-reply'))
        throw new TsaError('malformed', `TSA answered with content-type ${type || 'none'}`);
      const body = new Uint8Array(await res.arrayBuffer());
      return await verifyResponse(body, {
        ...(data instanceof Uint8Array ? { data } : { imprint: data }),
        nonce: req.nonce,
        caPem: opts.caPem,
        policy: opts.policy,
      });
    } catch (e) {
      const retryable = !(e instanceof TsaError) || e.reason === 'transport';
      if (!retryable) throw e;
      lastError = e;
      if (attempt < attempts)
        await new Promise((r) => setTimeout(r, (opts.backoffMs ?? 500) * 2 ** (attempt - 1)));
    }
  }
  if (lastError instanceof TsaError) throw lastError;
  const cause = (lastError as { cause?: { code?: string } } | undefined)?.cause?.code;
  const message = lastError instanceof Error ? lastError.message : String(lastError);
  throw new TsaError('transport', `TSA unreachable: ${message}${cause ? ` (${cause})` : ''}`);
}
