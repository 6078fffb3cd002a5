import { readFileSync } from 'node:fs';
import { buildRequest, requestTimestamp } from '../../lib/tsa/client';
import { tsaCaFile } from '../../lib/config';
import { opensslTsVerify } from '../helpers/openssl';
import { firstTsa, stackConfig } from '../helpers/stack-env';

describe('dev TSA over HTTP (RFC 3161 §3.4)', () => {
  const cfg = stackConfig();
  const caPem = () => readFileSync(tsaCaFile(cfg), 'utf8');

  it('answers application/timestamp-query with a token our client and openssl both accept', async () => {
    const data = new TextEncoder().encode(`anchor checkpoint ${Date.now()}`);
    const token = await requestTimestamp(data, { url: firstTsa(cfg).url, caPem: caPem() });
    expect(opensslTsVerify(data, token.responseDer, tsaCaFile(cfg))).toMatch(/Verification: OK/);
  });

  it('refuses other content types and methods', async () => {
    const req = buildRequest(new Uint8Array([1, 2, 3]));
    expect(
      (
        await fetch(firstTsa(cfg).url, {
          method: 'POST',
          body: Buffer.from(req.der),
          headers: { 'content-type': 'text/plain' },
        })
      ).status,
    ).toBe(415);
    expect((await fetch(firstTsa(cfg).url)).status).toBe(405);
  });

  it('answers garbage with a DER rejection, not a crash', async () => {
    const res = await fetch(firstTsa(cfg).url, {
      method: 'POST',
      body: 'not DER',
      headers: { 'content-type': 'application/timestamp-query' },
    });
    expect(res.status).toBe(200);
    const req = buildRequest(new Uint8Array([1]));
    await expect(
      requestTimestamp(new Uint8Array([1]), {
        url: firstTsa(cfg).url.replace('/tsa', '/nope'),
        caPem: caPem(),
        attempts: 1,
      }),
    ).rejects.toMatchObject({ reason: 'rejected' });
    expect(req.der.length).toBeGreaterThan(0);
  });

  it('retries transport failures and then reports the TSA as unreachable', async () => {
    const started = Date.now();
    await expect(
      requestTimestamp(new Uint8Array([1]), {
        url: 'http://127.0.0.1:1/tsa',
        caPem: caPem(),
        attempts: 3,
        backoffMs: 50,
      }),
    ).rejects.toMatchObject({ reason: 'transport' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});
