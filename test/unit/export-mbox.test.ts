import { mboxEntry } from '../../lib/export/mbox';

describe('mboxrd entries', () => {
  it('quote From lines reversibly and separate mails', () => {
    const mail = Buffer.from(
      'Subject: x\r\n\r\nFrom here on\r\n>From quoted\r\nnot From\r\n',
      'latin1',
    );
    const entry = mboxEntry(mail, new Date('2026-11-27T08:05:09Z')).toString('latin1');
    expect(entry.split('\n')[0]).toBe('From MAILER-DAEMON Fri Nov 27 08:05:09 2026');
    expect(entry).toContain('\r\n>From here on\r\n>>From quoted\r\nnot From\r\n');
    expect(entry.endsWith('\r\n\n')).toBe(true);
    // Unquoting (mboxrd) gives the mail back byte for byte.
    const body = entry.slice(entry.indexOf('\n') + 1, -1).replace(/^>(>*From )/gm, '$1');
    expect(Buffer.from(body, 'latin1').equals(mail)).toBe(true);
  });
});
