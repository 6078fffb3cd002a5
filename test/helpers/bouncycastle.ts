import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * BouncyCastle (Debian libbcpkix-java) as an independent RFC 4998 validator: ErsCheck.java is
 * compiled once per test process and asked about one record at a time.
 */

const JARS = ['bcprov', 'bcpkix', 'bcutil'].map((j) => `/usr/share/java/${j}.jar`).join(':');
let classes: string | undefined;

function compiled(): string {
  if (classes) return classes;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-ers-'));
  execFileSync(
    'javac',
    ['-cp', JARS, '-d', dir, path.join(__dirname, 'bouncycastle/ErsCheck.java')],
    {
      stdio: 'pipe',
    },
  );
  return (classes = dir);
}

/** BouncyCastle's verdict on `record` over `data` at `at`: "VALID n" or "INVALID why". */
export function bouncyCastleVerdict(record: Uint8Array, data: Uint8Array, at: Date): string {
  const dir = compiled();
  const dataFile = path.join(dir, 'data.bin');
  const recordFile = path.join(dir, 'record.ers');
  writeFileSync(dataFile, data);
  writeFileSync(recordFile, record);
  return execFileSync(
    'java',
    ['-cp', `${dir}:${JARS}`, 'ErsCheck', recordFile, dataFile, String(at.getTime())],
    { stdio: 'pipe' },
  )
    .toString()
    .trim();
}
