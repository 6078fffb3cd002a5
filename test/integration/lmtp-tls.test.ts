import { spawnSync } from 'node:child_process';
import { probeLmtpStartTls } from '../../lib/tls/probe';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 10 §1 from the outside, with `openssl s_client -starttls lmtp` against the running LMTP
 * listener: TLS 1.0 and 1.1 are refused by the server (the client is told to allow them), TLS 1.2
 * and 1.3 are accepted, and TLS 1.2 without forward secrecy or AEAD is refused.
 */

const cfg = stackConfig();

function sClient(...args: string[]) {
  const r = spawnSync(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${cfg.LMTP_PORT}`, '-starttls', 'lmtp', ...args],
    { input: 'QUIT\r\n', encoding: 'utf8', timeout: 15_000 },
  );
  return { ok: r.status === 0, out: `${r.stdout}\n${r.stderr}` };
}

describe('LMTP STARTTLS', () => {
  it.each([
    ['TLS 1.0', '-tls1'],
    ['TLS 1.1', '-tls1_1'],
  ])('refuses %s', (_name, flag) => {
    // SECLEVEL=0 lets OpenSSL 3 offer the old protocol at all: the refusal must be the server's.
    const r = sClient(flag, '-cipher', 'DEFAULT@SECLEVEL=0');
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/alert protocol version|unsupported protocol|wrong version number/i);
    expect(r.out).not.toMatch(/Cipher is (?!\(NONE\))/);
  });

  it.each([
    ['TLS 1.2', '-tls1_2', /Protocol\s*:\s*TLSv1\.2/],
    ['TLS 1.3', '-tls1_3', /TLSv1\.3/],
  ])('accepts %s with a forward secret AEAD suite', (_name, flag, protocol) => {
    const r = sClient(flag);
    expect(r.ok).toBe(true);
    expect(r.out).toMatch(protocol);
    expect(r.out).toMatch(/Cipher is (ECDHE-[A-Z0-9-]+(GCM|CHACHA20)|TLS_(AES|CHACHA20)\S+)/);
  });

  it('refuses TLS 1.2 suites without forward secrecy or AEAD', () => {
    for (const cipher of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA'])
      expect(sClient('-tls1_2', '-cipher', `${cipher}@SECLEVEL=0`).ok).toBe(false);
  });

  it('is what the doctor probe negotiates by default: TLS 1.3', async () => {
    expect((await probeLmtpStartTls('127.0.0.1', cfg.LMTP_PORT)).protocol).toBe('TLSv1.3');
  });
});
