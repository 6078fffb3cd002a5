import { randomBytes, randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { LmtpClient } from '../../infra/lmtp-client';
import { freePort, peakRssMiB, spawnApp } from '../../infra/processes';
import { SERVING_NODE_FLAGS } from '../../infra/stack';
import { archiveTenant, openArchiveContext, type ArchiveContext } from '../helpers/archive';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 19 §4: 50 mails of 25 MB arriving at once keep the LMTP process under 512 MB resident.
 * An LMTP process of its own (so its peak is this test's), allowed 64 mails at once, so that all
 * 50 are in flight together; its archive workflows start on a queue no worker serves — only the
 * receiving side is measured.
 */

const cfg = stackConfig();
const MB = 1024 * 1024;
let ctx: ArchiveContext & { close(): Promise<void> };
let lmtp: ChildProcess;
let port: number;

beforeAll(async () => {
  ctx = await openArchiveContext(cfg, 4);
  port = await freePort();
  lmtp = await spawnApp(
    'workers/lmtp.ts',
    {
      LMTP_PORT: String(port),
      LMTP_METRICS_PORT: '0',
      LMTP_MAX_CONCURRENT_MAILS: '64',
      LMTP_MAX_CONNECTIONS_PER_IP: '64',
      TEMPORAL_TASK_QUEUE: `memory-${randomUUID()}`,
    },
    port,
    SERVING_NODE_FLAGS, // as `npm run start:lmtp` runs it
  );
}, 90_000);
afterAll(async () => {
  lmtp?.kill('SIGTERM');
  await ctx.close();
});

/** A mail as large mails are: a short text and a base64 attachment, 76-character lines. */
function largeMailBody(bytes: number): Buffer {
  const line = (n: number) =>
    randomBytes(57 * n)
      .toString('base64')
      .replace(/(.{76})/g, '$1\r\n');
  return Buffer.from(
    `Content-Type: application/pdf; name="scan.pdf"\r\nContent-Transfer-Encoding: base64\r\n` +
      `Content-Disposition: attachment; filename="scan.pdf"\r\n\r\n${line(Math.floor(bytes / 78))}\r\n--grenze--\r\n`,
  );
}

it('50 concurrent 25 MB mails: all accepted, the LMTP process stays under 512 MB', async () => {
  const address = `archiv-${randomUUID().slice(0, 8)}@gross.example`;
  await archiveTenant(ctx, `Gross ${randomUUID().slice(0, 6)}`, address);
  const body = largeMailBody(25 * 1000 * 1000); // shared by all senders: the test holds it once
  const head = (i: number) =>
    Buffer.from(
      `From: scanner@kunde.example\r\nTo: ${address}\r\nSubject: Scan ${i} ${randomUUID()}\r\n` +
        `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="grenze"\r\n\r\n` +
        `--grenze\r\nContent-Type: text/plain\r\n\r\nAnbei der Scan ${i}.\r\n--grenze\r\n`,
    );
  const before = peakRssMiB(lmtp.pid!);
  const replies = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const client = await LmtpClient.connect(port, '127.0.0.1', 'scanner.example');
      try {
        return (await client.send([head(i), body], 'scanner@kunde.example', [address])).data[
          address
        ];
      } finally {
        client.close();
      }
    }),
  );
  const peak = peakRssMiB(lmtp.pid!);
  console.log(
    `50 concurrent mails of ${(body.length / MB).toFixed(1)} MiB: LMTP peak RSS ${before} MiB before, ${peak} MiB after`,
  );
  expect(replies.filter((r) => r?.startsWith('250'))).toHaveLength(50);
  expect(peak).toBeLessThan(512);
}, 300_000);
