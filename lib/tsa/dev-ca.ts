import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as asn1js from 'asn1js';
import { pkijs, subtle } from './pkijs-engine';
import { OID } from './oids';
import { ab, fromPem, toPem } from './pem';
import { positiveRandom } from './positive-random';

/**
 * The dev TSA's PKI: a self-signed CA and a TSA certificate it issues. Generated on first start
 * under DATA_DIR/tsa and never committed. ECDSA P-256 keeps generation instant.
 */

const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export interface SignerIdentity {
  cert: pkijs.Certificate;
  key: CryptoKey;
  certPem: string;
  keyPem: string;
}

export interface DevPki {
  ca: SignerIdentity;
  tsa: SignerIdentity;
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

export interface IssueOptions {
  commonName: string;
  isCa: boolean;
  /** Adds the critical extendedKeyUsage=timeStamping a TSA certificate must carry (RFC 3161 §2.3). */
  timeStampingEku: boolean;
  issuer?: SignerIdentity;
  validDays?: number;
}

export async function issueCertificate(opts: IssueOptions): Promise<SignerIdentity> {
  const keys = (await subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: ab(positiveRandom(16)) });
  cert.subject = name(opts.commonName);
  cert.issuer = opts.issuer ? opts.issuer.cert.subject : name(opts.commonName);
  const now = Date.now();
  cert.notBefore.value = new Date(now - 60_000);
  cert.notAfter.value = new Date(now + (opts.validDays ?? 3650) * 86_400_000);
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey);

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
    // keyCertSign | cRLSign
    ext.push(
      new pkijs.Extension({
        extnID: OID.keyUsage,
        critical: true,
        extnValue: new asn1js.BitString({
          valueHex: new Uint8Array([0x06]).buffer,
          unusedBits: 1,
        }).toBER(false),
      }),
    );
  } else {
    // digitalSignature
    ext.push(
      new pkijs.Extension({
        extnID: OID.keyUsage,
        critical: true,
        extnValue: new asn1js.BitString({
          valueHex: new Uint8Array([0x80]).buffer,
          unusedBits: 7,
        }).toBER(false),
      }),
    );
  }
  if (opts.timeStampingEku) {
    ext.push(
      new pkijs.Extension({
        extnID: OID.extKeyUsage,
        critical: true,
        extnValue: new pkijs.ExtKeyUsage({ keyPurposes: [OID.kpTimeStamping] })
          .toSchema()
          .toBER(false),
      }),
    );
  }
  cert.extensions = ext;

  // The issuer's private key, or our own for a self-signed root. Keys whose private half we need
  // later are exportable on purpose: the dev TSA persists them under DATA_DIR.
  await cert.sign(opts.issuer?.key ?? keys.privateKey, 'SHA-256');
  const certDer = cert.toSchema(true).toBER(false);
  return {
    cert: pkijs.Certificate.fromBER(certDer),
    key: keys.privateKey,
    certPem: toPem('CERTIFICATE', certDer),
    keyPem: toPem('PRIVATE KEY', await subtle.exportKey('pkcs8', keys.privateKey)),
  };
}

export async function createDevPki(opts: { tsaEku?: boolean } = {}): Promise<DevPki> {
  const ca = await issueCertificate({
    commonName: 'mailrepo dev TSA root CA',
    isCa: true,
    timeStampingEku: false,
  });
  const tsa = await issueCertificate({
    commonName: 'mailrepo dev TSA',
    isCa: false,
    timeStampingEku: opts.tsaEku ?? true,
    issuer: ca,
  });
  return { ca, tsa };
}

export async function loadIdentity(certPem: string, keyPem: string): Promise<SignerIdentity> {
  const [certDer] = fromPem('CERTIFICATE', certPem);
  const [keyDer] = fromPem('PRIVATE KEY', keyPem);
  if (!certDer || !keyDer) throw new Error('TSA identity: certificate or private key PEM missing');
  const key = await subtle.importKey('pkcs8', ab(keyDer), ALG, false, ['sign']);
  return { cert: pkijs.Certificate.fromBER(ab(certDer)), key, certPem, keyPem };
}

/** Loads the dev PKI from `dir`, creating it on first use. Writes ca.pem, tsa.pem, tsa.key. */
export async function loadOrCreateDevPki(
  dir: string,
): Promise<{ tsa: SignerIdentity; caPem: string }> {
  const files = {
    ca: path.join(dir, 'ca.pem'),
    cert: path.join(dir, 'tsa.pem'),
    key: path.join(dir, 'tsa.key'),
  };
  if (!existsSync(files.ca) || !existsSync(files.cert) || !existsSync(files.key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pki = await createDevPki();
    writeFileSync(files.key, pki.tsa.keyPem, { mode: 0o600 });
    writeFileSync(files.cert, pki.tsa.certPem + pki.ca.certPem);
    writeFileSync(files.ca, pki.ca.certPem);
    // The CA key is not kept: nothing else is ever issued by the dev CA.
  }
  const certPem = readFileSync(files.cert, 'utf8');
  return {
    tsa: await loadIdentity(certPem, readFileSync(files.key, 'utf8')),
    caPem: readFileSync(files.ca, 'utf8'),
  };
}
