import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { pkijs } from '../pki/pkijs-engine';
import { HASH_BY_OID, OID } from '../pki/oids';
import { ab, fromPem } from '../pki/pem';
import type { SignerIdentity } from './dev-ca';
import { positiveRandom } from '../pki/positive-random';

/**
 * RFC 3161 responder used by the dev TSA: turns a DER TimeStampReq into a DER TimeStampResp signed
 * by `signer`. Signed attributes: contentType, messageDigest and ESS signingCertificateV2, as
 * RFC 3161 §2.4.2 and RFC 5816 require; the nonce is echoed; serial numbers are positive.
 */

export interface ResponderOptions {
  signer: SignerIdentity;
  /** Certificates after the signer's (the chain up to, not including, the root). */
  chain?: pkijs.Certificate[];
  policy?: string;
  now?: () => Date;
  /** The certificate the ESS attribute names; always the signer's, except in negative tests. */
  essCertificate?: pkijs.Certificate;
}

// PKIFailureInfo bit numbers (RFC 3161 §2.4.2).
const FAIL = { badAlg: 0, badRequest: 2, badDataFormat: 5, unacceptedPolicy: 15 } as const;

function rejection(bit: number, text: string): ArrayBuffer {
  const bytes = new Uint8Array(Math.floor(bit / 8) + 1);
  bytes[Math.floor(bit / 8)] = 0x80 >> (bit % 8);
  const failInfo = new asn1js.BitString({ valueHex: bytes.buffer, unusedBits: 7 - (bit % 8) });
  const status = new pkijs.PKIStatusInfo({
    status: 2,
    statusStrings: [new asn1js.Utf8String({ value: text })],
    failInfo,
  });
  return new pkijs.TimeStampResp({ status }).toSchema().toBER(false);
}

function signingCertificateV2(cert: pkijs.Certificate): pkijs.Attribute {
  const certDer = cert.toSchema(true).toBER(false);
  const certHash = createHash('sha256').update(new Uint8Array(certDer)).digest();
  // ESSCertIDv2 with the default hash algorithm (SHA-256, so omitted) and issuerSerial.
  const issuerSerial = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({
        value: [new pkijs.GeneralName({ type: 4, value: cert.issuer }).toSchema()],
      }),
      new asn1js.Integer({ valueHex: cert.serialNumber.valueBlock.valueHexView.slice().buffer }),
    ],
  });
  const essCertIdV2 = new asn1js.Sequence({
    value: [new asn1js.OctetString({ valueHex: ab(certHash) }), issuerSerial],
  });
  const value = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
  return new pkijs.Attribute({ type: OID.signingCertificateV2, values: [value] });
}

export async function respond(reqDer: Uint8Array, opts: ResponderOptions): Promise<Uint8Array> {
  let req: pkijs.TimeStampReq;
  try {
    req = pkijs.TimeStampReq.fromBER(ab(reqDer));
  } catch {
    return new Uint8Array(rejection(FAIL.badDataFormat, 'request is not a DER TimeStampReq'));
  }
  const policy = opts.policy ?? OID.devTsaPolicy;
  if (req.version !== 1) return new Uint8Array(rejection(FAIL.badRequest, 'unsupported version'));
  const hashOid = req.messageImprint.hashAlgorithm.algorithmId;
  const hashName = HASH_BY_OID[hashOid];
  if (!hashName || hashName === 'SHA-1')
    return new Uint8Array(
      rejection(FAIL.badAlg, 'message imprint must use SHA-256/384/512 or SHA3-512'),
    );
  const expectedLen = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64, 'SHA3-512': 64 }[hashName];
  if (req.messageImprint.hashedMessage.valueBlock.valueHexView.byteLength !== expectedLen)
    return new Uint8Array(rejection(FAIL.badDataFormat, 'message imprint has the wrong length'));
  if (req.reqPolicy && req.reqPolicy !== policy)
    return new Uint8Array(rejection(FAIL.unacceptedPolicy, 'policy not supported'));

  const tst = new pkijs.TSTInfo({
    version: 1,
    policy,
    messageImprint: req.messageImprint,
    serialNumber: new asn1js.Integer({ valueHex: ab(positiveRandom(16)) }),
    genTime: opts.now?.() ?? new Date(),
    accuracy: new pkijs.Accuracy({ seconds: 1 }),
    ordering: false,
    ...(req.nonce ? { nonce: req.nonce } : {}),
  });
  const tstDer = tst.toSchema().toBER(false);
  const digest = createHash('sha256').update(new Uint8Array(tstDer)).digest();

  const signed = new pkijs.SignedData({
    version: 3,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: OID.tstInfo,
      eContent: new asn1js.OctetString({ valueHex: tstDer }),
    }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({
          issuer: opts.signer.cert.issuer,
          serialNumber: opts.signer.cert.serialNumber,
        }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new pkijs.Attribute({
              type: OID.contentType,
              values: [new asn1js.ObjectIdentifier({ value: OID.tstInfo })],
            }),
            new pkijs.Attribute({
              type: OID.messageDigest,
              values: [new asn1js.OctetString({ valueHex: ab(digest) })],
            }),
            signingCertificateV2(opts.essCertificate ?? opts.signer.cert),
          ],
        }),
      }),
    ],
    ...(req.certReq ? { certificates: [opts.signer.cert, ...(opts.chain ?? [])] } : {}),
  });
  await signed.sign(opts.signer.key, 0, 'SHA-256');
  // pkijs's constructor turns eContent into a constructed (BER) OCTET STRING; a TSA sends DER,
  // and the verifiers in proof bundles expect it. Assigned after construction, it stays primitive.
  signed.encapContentInfo.eContent = new asn1js.OctetString({ valueHex: tstDer });

  const resp = new pkijs.TimeStampResp({
    status: new pkijs.PKIStatusInfo({ status: 0 }),
    timeStampToken: new pkijs.ContentInfo({
      contentType: OID.signedData,
      content: signed.toSchema(true),
    }),
  });
  return new Uint8Array(resp.toSchema().toBER(false));
}

/** Chain certificates from a PEM bundle (signer first), as written by loadOrCreateDevPki. */
export function chainFromPem(pem: string): pkijs.Certificate[] {
  return fromPem('CERTIFICATE', pem).map((der) => pkijs.Certificate.fromBER(ab(der)));
}
