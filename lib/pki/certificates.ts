import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { pkijs, subtle } from './pkijs-engine';
import { OID } from './oids';
import { ab, fromPem, toPem } from './pem';
import { positiveRandom } from './positive-random';

/**
 * Issuing X.509 certificates with pkijs: the dev TSA's PKI (lib/tsa/dev-ca.ts) and the
 * deployment's ingest CA (lib/ingest/ingest-ca.ts). ECDSA P-256 keeps generation instant.
 */

export const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export interface SignerIdentity {
  cert: pkijs.Certificate;
  key: CryptoKey;
  certPem: string;
  keyPem: string;
}

function name(cn: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      new pkijs.AttributeTypeAndValue({
        type: OID.commonName,
        value: new asn1js.Utf8String({ value: cn }),
      }),
    ],
  });
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 over the subjectPublicKey bits. */
function keyId(cert: pkijs.Certificate): ArrayBuffer {
  const bits = cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
  return ab(createHash('sha1').update(bits).digest());
}

/** A critical keyUsage extension: the bits in one byte, and how many of its low bits are unused. */
const keyUsage = (bits: number, unusedBits: number) =>
  new pkijs.Extension({
    extnID: OID.keyUsage,
    critical: true,
    extnValue: new asn1js.BitString({
      valueHex: new Uint8Array([bits]).buffer,
      unusedBits,
    }).toBER(false),
  });

export interface IssueOptions {
  commonName: string;
  isCa: boolean;
  /** Adds the critical extendedKeyUsage=timeStamping a TSA certificate must carry (RFC 3161 §2.3). */
  timeStampingEku: boolean;
  /** Adds extendedKeyUsage=clientAuth: a TLS client certificate (ingest credentials). */
  clientAuthEku?: boolean;
  issuer?: SignerIdentity;
  validDays?: number;
  /** The subject's public key (from a CSR); without it a key pair is generated here. */
  subjectPublicKeyInfo?: pkijs.PublicKeyInfo;
}

/** A certificate, and its private key when it was generated here (not for a CSR's key). */
export interface IssuedCertificate {
  cert: pkijs.Certificate;
  key?: CryptoKey;
  certPem: string;
  keyPem?: string;
}

export function issueCertificate(
  opts: IssueOptions & { subjectPublicKeyInfo?: undefined },
): Promise<SignerIdentity>;
export function issueCertificate(opts: IssueOptions): Promise<IssuedCertificate>;
export async function issueCertificate(opts: IssueOptions): Promise<IssuedCertificate> {
  const keys = opts.subjectPublicKeyInfo
    ? undefined
    : ((await subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair);
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: ab(positiveRandom(16)) });
  cert.subject = name(opts.commonName);
  cert.issuer = opts.issuer ? opts.issuer.cert.subject : name(opts.commonName);
  const now = Date.now();
  cert.notBefore.value = new Date(now - 60_000);
  cert.notAfter.value = new Date(now + (opts.validDays ?? 3650) * 86_400_000);
  if (opts.subjectPublicKeyInfo) cert.subjectPublicKeyInfo = opts.subjectPublicKeyInfo;
  else await cert.subjectPublicKeyInfo.importKey(keys!.publicKey);

  const ext: pkijs.Extension[] = [];
  const ski = keyId(cert);
  ext.push(
    new pkijs.Extension({
      extnID: OID.subjectKeyIdentifier,
      critical: false,
      extnValue: new asn1js.OctetString({ valueHex: ski }).toBER(false),
    }),
  );
  if (opts.issuer) {
    const aki = new pkijs.AuthorityKeyIdentifier({
      keyIdentifier: new asn1js.OctetString({ valueHex: keyId(opts.issuer.cert) }),
    });
    ext.push(
      new pkijs.Extension({
        extnID: OID.authorityKeyIdentifier,
        critical: false,
        extnValue: aki.toSchema().toBER(false),
      }),
    );
  }
  if (opts.isCa) {
    ext.push(
      new pkijs.Extension({
        extnID: OID.basicConstraints,
        critical: true,
        extnValue: new pkijs.BasicConstraints({ cA: true, pathLenConstraint: 0 })
          .toSchema()
          .toBER(false),
      }),
    );
    ext.push(keyUsage(0x06, 1)); // keyCertSign | cRLSign
  } else {
    ext.push(keyUsage(0x80, 7)); // digitalSignature
  }
  if (opts.timeStampingEku || opts.clientAuthEku) {
    ext.push(
      new pkijs.Extension({
        extnID: OID.extKeyUsage,
        critical: true,
        extnValue: new pkijs.ExtKeyUsage({
          keyPurposes: [opts.timeStampingEku ? OID.kpTimeStamping : OID.kpClientAuth],
        })
          .toSchema()
          .toBER(false),
      }),
    );
  }
  cert.extensions = ext;

  // The issuer's private key, or our own for a self-signed root. Keys whose private half we need
  // later are exportable on purpose: the dev TSA persists them under DATA_DIR.
  const signer = opts.issuer?.key ?? keys?.privateKey;
  if (!signer) throw new Error('a certificate for a given key needs an issuer');
  await cert.sign(signer, 'SHA-256');
  const certDer = cert.toSchema(true).toBER(false);
  return {
    cert: pkijs.Certificate.fromBER(certDer),
    key: keys?.privateKey,
    certPem: toPem('CERTIFICATE', certDer),
    keyPem: keys && toPem('PRIVATE KEY', await subtle.exportKey('pkcs8', keys.privateKey)),
  };
}

export async function loadIdentity(certPem: string, keyPem: string): Promise<SignerIdentity> {
  const [certDer] = fromPem('CERTIFICATE', certPem);
  const [keyDer] = fromPem('PRIVATE KEY', keyPem);
  if (!certDer || !keyDer) throw new Error('certificate or private key PEM missing');
  const key = await subtle.importKey('pkcs8', ab(keyDer), ALG, false, ['sign']);
  return { cert: pkijs.Certificate.fromBER(ab(certDer)), key, certPem, keyPem };
}
