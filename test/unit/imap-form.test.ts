import { imapAccountOf, type ImapImportForm } from '../../application/imap-imports';
import { isInputError } from '../../lib/input/input-error';

/** The IMAP import form (issue 22 §3): what becomes an account, and a clear refusal per field. */

const form = (over: Partial<ImapImportForm> = {}): ImapImportForm => ({
  host: 'imap.firma.example',
  port: '',
  security: 'tls',
  user: 'anna@firma.example',
  password: 'geheim; mit Semikolon',
  ca: '',
  continuousMinutes: '',
  ...over,
});

const refusal = (f: ImapImportForm) => {
  try {
    imapAccountOf(f);
  } catch (e) {
    if (isInputError(e)) return [e.code, e.field];
    throw e;
  }
  return undefined;
};

describe('IMAP import form', () => {
  it('defaults the port by security and keeps the password as typed', () => {
    expect(imapAccountOf(form())).toEqual({
      account: {
        host: 'imap.firma.example',
        port: 993,
        security: 'tls',
        user: 'anna@firma.example',
        password: 'geheim; mit Semikolon',
      },
    });
    expect(
      imapAccountOf(form({ security: 'starttls', host: ' IMAP.Firma.Example ' })).account,
    ).toMatchObject({
      host: 'imap.firma.example',
      port: 143,
      security: 'starttls',
    });
    // Anything but starttls is implicit TLS: there is no cleartext choice.
    expect(imapAccountOf(form({ security: 'none' })).account.security).toBe('tls');
    expect(imapAccountOf(form({ continuousMinutes: '15', host: '192.0.2.7' }))).toMatchObject({
      account: { host: '192.0.2.7' },
      continuousMinutes: 15,
    });
  });

  it.each([
    [{ host: 'imap firma' }, ['imap.error.host', 'host']],
    [{ host: 'imap.firma.example/x' }, ['imap.error.host', 'host']],
    [{ host: '' }, ['imap.error.host', 'host']],
    [{ port: '70000' }, ['imap.error.port', 'port']],
    [{ port: '1.5' }, ['imap.error.port', 'port']],
    [{ user: '  ' }, ['imap.error.user', 'user']],
    [{ password: '' }, ['imap.error.password', 'password']],
    [{ ca: 'kein Zertifikat' }, ['imap.error.ca', 'ca']],
    [{ continuousMinutes: '1' }, ['imap.error.interval', 'continuousMinutes']],
    [{ continuousMinutes: '5000' }, ['imap.error.interval', 'continuousMinutes']],
  ])('refuses %j', (over, expected) => {
    expect(refusal(form(over))).toEqual(expected);
  });
});
