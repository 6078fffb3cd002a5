import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, parseCodecKeys } from '../../lib/temporal/codec';
import { stackConfig } from '../helpers/stack-env';

describe('codec endpoint for the Temporal UI', () => {
  const cfg = stackConfig();
  const base = `http://127.0.0.1:${cfg.CODEC_SERVER_PORT}`;
  const toJson = (p: {
    metadata?: Record<string, Uint8Array | null> | null;
    data?: Uint8Array | null;
  }) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
    ),
    data: Buffer.from(p.data!).toString('base64'),
  });

  it('decodes payloads encrypted by our codec, with CORS for the UI origin', async () => {
    const [enc] = await new EncryptionCodec(parseCodecKeys(cfg.TEMPORAL_CODEC_KEYS)).encode([
      defaultPayloadConverter.toPayload({ hello: 'operator' }),
    ]);
    const res = await fetch(`${base}/decode`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: cfg.CODEC_SERVER_CORS_ORIGIN,
        'x-namespace': cfg.TEMPORAL_NAMESPACE,
      },
      body: JSON.stringify({ payloads: [toJson(enc!)] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(cfg.CODEC_SERVER_CORS_ORIGIN);
    const body = (await res.json()) as { payloads: { data: string }[] };
    expect(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString())).toEqual({
      hello: 'operator',
    });
  });

  it('refuses malformed requests without leaking details', async () => {
    const res = await fetch(`${base}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"nope":1}',
    });
    expect(res.status).toBe(400);
    const bad = await fetch(`${base}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        payloads: [
          {
            metadata: {
              encoding: Buffer.from('binary/encrypted').toString('base64'),
              'encryption-key-id': Buffer.from('zzz').toString('base64'),
            },
            data: 'AAAA',
          },
        ],
      }),
    });
    expect(bad.status).toBe(400);
  });
});
