import { Writable } from 'node:stream';
import { createLogger } from '../../lib/log';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { log: createLogger('test', { level: 'info', destination }), lines };
}

const MAIL = 'Subject: Quarterly numbers\r\n\r\nThe secret merger with ACME closes Friday.';
const PASSWORD = 'correct horse battery staple';
const KEY = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');

describe('log redaction', () => {
  it('prints no mail content, password or key bytes, however they are nested', () => {
    const { log, lines } = capture();
    log.info(
      {
        tenantId: 't-1',
        mail: { raw: MAIL },
        nested: { deeper: { body: MAIL, html: `<p>${MAIL}</p>`, subject: 'Quarterly numbers' } },
        user: { email: 'a@example.de', password: PASSWORD },
        req: {
          headers: {
            authorization: `Basic ${Buffer.from(`a:${PASSWORD}`).toString('base64')}`,
            cookie: 'sid=abc',
          },
        },
        dek: KEY,
        wrapped: { anyName: new Uint8Array(KEY) },
        keys: [KEY.toString('base64')],
        list: [{ content: MAIL }],
      },
      'message received',
    );
    const out = lines.join('');
    expect(out).not.toContain('merger');
    expect(out).not.toContain('Quarterly');
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain(Buffer.from(`a:${PASSWORD}`).toString('base64'));
    expect(out).not.toContain(KEY.toString('hex'));
    expect(out).not.toContain(KEY.toString('base64'));
    expect(out).not.toContain('sid=abc');
    // Still useful: metadata and the shape remain.
    const obj = JSON.parse(out);
    expect(obj.tenantId).toBe('t-1');
    expect(obj.msg).toBe('message received');
    expect(obj.wrapped.anyName).toBe('[32 bytes redacted]');
  });

  it('ignores printf-style arguments that would bypass redaction', () => {
    const { log, lines } = capture();
    (log.info as (...a: unknown[]) => void)('got %s', MAIL);
    expect(lines.join('')).not.toContain('merger');
  });

  it('keeps error type and stack but not arbitrary properties attached to the error', () => {
    const { log, lines } = capture();
    const err = Object.assign(new Error('S3 put failed'), { request: { body: MAIL } });
    log.error({ err }, 'store failed');
    const out = lines.join('');
    expect(out).toContain('S3 put failed');
    expect(out).not.toContain('merger');
  });
});

describe('log redaction of key material', () => {
  it('prints none of the keys of an unlocked session logged by mistake', () => {
    const { log, lines } = capture();
    const session = {
      tenantId: '3f1c…',
      userId: 'u-1',
      role: 'admin',
      userPrivateKey: Buffer.alloc(32, 0xa1),
      tenantPrivateKey: Buffer.alloc(32, 0xb2),
      tenantKeyVersion: 2,
    };
    log.warn(
      { session, epoch: { privateKey: Buffer.alloc(32, 0xc3), indexKey: Buffer.alloc(32, 0xd4) } },
      'oops',
    );
    const out = lines.join('');
    for (const b of [0xa1, 0xb2, 0xc3, 0xd4]) {
      const key = Buffer.alloc(32, b);
      expect(out).not.toContain(key.toString('hex'));
      expect(out).not.toContain(key.toString('base64'));
    }
    const logged = JSON.parse(out);
    // A session is redacted as a whole; elsewhere keys go by type (binary) or by name.
    expect(logged.session).toBe('[redacted]');
    expect(logged.epoch.privateKey).toBe('[redacted]');
  });
});
