import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `openssl ts -verify` of an RFC 3161 response over `data`; returns openssl's output, throws on failure. */
export function opensslTsVerify(
  data: Uint8Array | string,
  response: Uint8Array,
  caFile: string,
): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-ossl-'));
  try {
    writeFileSync(path.join(dir, 'data'), data);
    writeFileSync(path.join(dir, 'token.tsr'), response);
    return execFileSync(
      'openssl',
      [
        'ts',
        '-verify',
        '-data',
        path.join(dir, 'data'),
        '-in',
        path.join(dir, 'token.tsr'),
        '-CAfile',
        caFile,
      ],
      { stdio: 'pipe' },
    ).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
