import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * Issue 10 §4, the fault scripts that fit the suite's time, run as an operator runs them
 * (`npm run fault -- <scenario>`, a process and a stack of its own): one then two of four MinIO
 * nodes killed during ingest, and PostgreSQL killed (-9) until the senders feel it. Each scenario counts
 * the mails in the database and reads them back from the object store. The script exits 1 when an
 * acknowledged mail is lost or a promise of the scenario breaks. (`npm run fault -- all` adds the
 * Temporal kill and the 10-minute TSA outage.)
 */
function fault(name: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, '../../fault/run.ts'), name],
      // Down until the senders have felt it and 3 s at least (the operator's default is 10 s).
      { env: { ...process.env, FAULT_DOWN_S: '3' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('faults under ingest', () => {
  it.each([
    ['minio-nodes', /MinIO node 4 of 4 killed during ingest: .* lost 0 /],
    ['postgres', /PostgreSQL killed \(-9\) for \d+ s during ingest: .* lost 0 /],
  ])(
    '%s: nothing acknowledged is lost',
    async (name, tally) => {
      const r = await fault(name);
      const summary = r.out.split('\n').filter((l) => !/Warning|trace-warnings/.test(l));
      console.log(summary.slice(-8).join('\n'));
      expect(r.out).toMatch(tally);
      expect(r.out).toMatch(/=> PASS/);
      expect(r.code).toBe(0);
    },
    600_000,
  );
});
