import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../infra/processes';
import type { CheckResult } from '../../lib/doctor/checks';
import { stackConfig } from '../helpers/stack-env';

const bin = path.resolve(__dirname, '../../bin/mailrepo.cjs');

function doctor(env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [bin, 'doctor', '--json'], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, rows: JSON.parse(r.stdout) as CheckResult[], stderr: r.stderr };
}

describe('mailrepo doctor', () => {
  stackConfig();

  it('shows every service up, with versions and TLS state, and exits 0', () => {
    const { status, rows } = doctor(process.env);
    expect(rows.filter((r) => !r.ok)).toEqual([]);
    expect(status).toBe(0);
    expect(rows.map((r) => r.service)).toEqual(
      expect.arrayContaining([
        'PostgreSQL',
        'Temporal',
        'Temporal worker',
        'Object storage (S3)',
        'TSA 1',
        'TSA 2',
        'LMTP ingest',
        'Portal',
      ]),
    );
    const by = Object.fromEntries(rows.map((r) => [r.service, r]));
    expect(by['PostgreSQL']!.version).toMatch(/^PostgreSQL \d+/);
    expect(by['Temporal']!.version).toMatch(/^Temporal \d+\.\d+/);
    expect(by['Object storage (S3)']!.version).toMatch(/MinIO/);
    // Both dev TSAs, each with its own certificate (decision 0030).
    expect(by['TSA 1']!.detail).toMatch(/token verified, .* certificate valid until \d{4}-/);
    expect(by['TSA 2']!.detail).toMatch(/token verified/);
    // The dev stack offers STARTTLS on LMTP (dev certificate): doctor shows the version it
    // negotiated. The rest is plain on loopback; the worker has no connection of its own.
    expect(by['LMTP ingest']!.tls).toBe('TLSv1.3');
    expect(
      rows
        .filter((r) => !['LMTP ingest', 'Temporal worker'].includes(r.service))
        .map((r) => [r.service, r.tls]),
    ).toEqual(
      rows
        .filter((r) => !['LMTP ingest', 'Temporal worker'].includes(r.service))
        .map((r) => [r.service, 'off']),
    );
  }, 60_000);

  it('marks a stopped service red and exits 1', async () => {
    const dead = await freePort();
    const { status, rows, stderr } = doctor({
      ...process.env,
      S3_ENDPOINT: `http://127.0.0.1:${dead}`,
    });
    expect(status).toBe(1);
    const s3 = rows.find((r) => r.service === 'Object storage (S3)')!;
    expect(s3.ok).toBe(false);
    expect(s3.detail).toMatch(/ECONNREFUSED/);
    expect(rows.filter((r) => !r.ok)).toHaveLength(1);
    expect(stderr).toMatch(/1 service\(s\) down: Object storage/);
  }, 60_000);
});
