import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { loadConfig } from '../../lib/config';
import { EncryptionCodec, parseCodecKeys } from '../../lib/temporal/codec';
import { createCodecServer } from '../../lib/temporal/codec-server';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 17 §4: the codec endpoint decoded any payload — decryption-grant keys included — for
 * anyone who reached it. Now it blanks key material, requires its bearer token when one is set,
 * and production refuses to run it without one.
 */
const cfg = stackConfig();
const codec = new EncryptionCodec(parseCodecKeys(cfg.TEMPORAL_CODEC_KEYS));
const GRANT_KEY = Buffer.alloc(32, 0x5a).toString('base64');
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
  ),
  data: Buffer.from(p.data!).toString('base64'),
});

async function decode(base: string, headers: Record<string, string> = {}) {
  const [enc] = await codec.encode([
    defaultPayloadConverter.toPayload({
      grant: { tenantId: 't', grantId: 'g', grantKey: GRANT_KEY },
      key: GRANT_KEY,
      exportId: 'e-1',
    }),
  ]);
  return fetch(`${base}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ payloads: [toJson(enc!)] }),
  });
}

it('the running endpoint decodes workflow inputs without their keys', async () => {
  const res = await decode(`http://127.0.0.1:${cfg.CODEC_SERVER_PORT}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { payloads: { data: string }[] };
  const text = Buffer.from(body.payloads[0]!.data, 'base64').toString();
  expect(text).not.toContain(GRANT_KEY);
  expect(JSON.parse(text)).toEqual({
    grant: { tenantId: 't', grantId: 'g', grantKey: '[redacted]' },
    key: '[redacted]',
    exportId: 'e-1',
  });
});

it('with a token configured, a request without it is refused', async () => {
  const token = 'x'.repeat(40);
  const server = createCodecServer(codec, 'http://localhost:8233', token).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    expect((await decode(base)).status).toBe(401);
    expect((await decode(base, { authorization: `Bearer ${'y'.repeat(40)}` })).status).toBe(401);
    expect((await decode(base, { authorization: `Bearer ${token}` })).status).toBe(200);
  } finally {
    server.close();
  }
});

it('production refuses an enabled codec endpoint without a token', () => {
  const prod = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://app@db.internal:5432/mailrepo?sslmode=verify-full',
    CODEC_SERVER_ENABLED: 'true',
  };
  expect(() => loadConfig(prod)).toThrow(/CODEC_SERVER_TOKEN/);
});
