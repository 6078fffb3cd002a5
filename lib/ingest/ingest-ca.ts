import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { issueCertificate, loadIdentity, type SignerIdentity } from '../pki/certificates';
import { InputError } from '../input/input-error';
import { pkijs } from '../pki/pkijs-engine';
import { ab, fromPem } from '../pki/pem';

/**
 * The deployment's ingest CA (issue 17 §1, docs/ingest.md): it issues each client certificate a
 * tenant's mail server presents on LMTP. The certificate's common name is the credential's id; the
 * LMTP server trusts only this CA and then pins the exact certificate by its SHA-256, so a
 * certificate is revoked by revoking its credential, without a CRL.
 */

export interface IngestCa {
  identity: SignerIdentity;
}

/** A CSR larger than this is not a CSR (an RSA-8192 request is about 2.5 KiB of PEM). */
export const MAX_CSR_PEM_BYTES = 16 * 1024;

export interface ClientCertificate {
  certPem: string;
  /** Only when the key pair was generated here; shown once, never stored. */
  keyPem?: string;
  fingerprint: Buffer;
  notAfter: Date;
}

export async function loadIngestCa(certFile: string, keyFile: string): Promise<IngestCa> {
  return {
    identity: await loadIdentity(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8')),
  };
}

/** The development CA under `dir` (made on first use): ca.pem and ca.key. Never for production. */
export async function ensureDevIngestCa(
  dir: string,
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'ca.pem');
  const keyFile = path.join(dir, 'ca.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ca = await issueCertificate({
      commonName: 'mailrepo dev ingest CA',
      isCa: true,
      timeStampingEku: false,
    });
    writeFileSync(keyFile, ca.keyPem, { mode: 0o600 });
    writeFileSync(certFile, ca.certPem);
  }
  return { certFile, keyFile };
}

const csrError = () => new InputError('ingest.error.csr', {}, 'csr');

/** The public key of a PEM CSR whose self-signature holds; anything else is an InputError. */
async function csrPublicKey(csrPem: string): Promise<pkijs.PublicKeyInfo> {
  if (Buffer.byteLength(csrPem) > MAX_CSR_PEM_BYTES) throw csrError();
  const [der, ...more] = fromPem('CERTIFICATE REQUEST', csrPem);
  if (!der || more.length) throw csrError();
  let csr: pkijs.CertificationRequest;
  try {
    csr = pkijs.CertificationRequest.fromBER(ab(der));
  } catch {
    throw csrError();
  }
  // Proof of possession: only the holder of the private key could have signed the request.
  if (!(await csr.verify().catch(() => false))) throw csrError();
  return csr.subjectPublicKeyInfo;
}

/**
 * A client certificate for credential `credentialId`: for the CSR's key when one is given (the
 * private key never leaves the mail server), else for a key pair made here and returned once.
 * The CSR's subject is ignored; the certificate names the credential.
 */
export async function issueClientCertificate(
  ca: IngestCa,
  input: { credentialId: string; validDays: number; csrPem?: string },
): Promise<ClientCertificate> {
  const subjectPublicKeyInfo = input.csrPem ? await csrPublicKey(input.csrPem) : undefined;
  const issued = await issueCertificate({
    commonName: input.credentialId,
    isCa: false,
    timeStampingEku: false,
    clientAuthEku: true,
    issuer: ca.identity,
    validDays: input.validDays,
    subjectPublicKeyInfo,
  });
  const x509 = new X509Certificate(issued.certPem);
  return {
    certPem: issued.certPem,
    keyPem: issued.keyPem,
    fingerprint: createHash('sha256').update(x509.raw).digest(),
    notAfter: new Date(x509.validTo),
  };
}

/** The credential id a presented certificate names (its common name), if it names one. */
export function credentialIdOf(der: Buffer): string | undefined {
  const cn = new X509Certificate(der).subject.match(/^CN=(.+)$/m)?.[1];
  return cn?.trim();
}
