import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { issueCertificate, loadIdentity, type SignerIdentity } from '../pki/certificates';

/**
 * The dev TSA's PKI: a self-signed CA and a TSA certificate it issues. Generated on first start
 * under DATA_DIR/tsa and never committed.
 */

export { issueCertificate, loadIdentity, type SignerIdentity };

export interface DevPki {
  ca: SignerIdentity;
  tsa: SignerIdentity;
}

export async function createDevPki(
  opts: { tsaEku?: boolean; name?: string } = {},
): Promise<DevPki> {
  const name = opts.name ?? 'mailrepo dev TSA';
  const ca = await issueCertificate({
    commonName: `${name} root CA`,
    isCa: true,
    timeStampingEku: false,
  });
  const tsa = await issueCertificate({
    commonName: name,
    isCa: false,
    timeStampingEku: opts.tsaEku ?? true,
    issuer: ca,
  });
  return { ca, tsa };
}

/** Loads the dev PKI from `dir`, creating it on first use. Writes ca.pem, tsa.pem, tsa.key. */
export async function loadOrCreateDevPki(
  dir: string,
  name?: string,
): Promise<{ tsa: SignerIdentity; caPem: string }> {
  const files = {
    ca: path.join(dir, 'ca.pem'),
    cert: path.join(dir, 'tsa.pem'),
    key: path.join(dir, 'tsa.key'),
  };
  if (!existsSync(files.ca) || !existsSync(files.cert) || !existsSync(files.key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pki = await createDevPki({ name });
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
