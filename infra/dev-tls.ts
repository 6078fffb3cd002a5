import { devLmtpCertFiles } from '../lib/config';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * The dev certificate for LMTP STARTTLS (self-signed, localhost and 127.0.0.1), made once with
 * openssl under the data directory. Production names real files in LMTP_TLS_CERT_FILE/KEY_FILE.
 * Returns undefined when openssl is missing: dev LMTP then runs without STARTTLS.
 */
export function ensureDevLmtpCert(dataDir: string): { cert: string; key: string } | undefined {
  const { cert, key } = devLmtpCertFiles(dataDir);
  const dir = path.dirname(cert);
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-days', '825', '-keyout', key, '-out', cert,
      ], // prettier-ignore
      { stdio: 'pipe' },
    );
    return { cert, key };
  } catch {
    return undefined;
  }
}
