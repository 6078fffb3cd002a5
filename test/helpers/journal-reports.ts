import { crlf } from './archive';

/**
 * Journal reports written to Microsoft's published format (Exchange envelope journaling): the
 * report header, a text part listing the original's envelope one field per line, and the original
 * attached as message/rfc822. Only test data: the archive never builds reports.
 */

export const original = (subject: string, extra = '') =>
  crlf(
    `From: Alice Absender <alice@contoso.example>\nTo: Bob <bob@fabrikam.example>\n` +
      `Cc: carol@contoso.example\nSubject: ${subject}\nMessage-ID: <${subject.replace(/\W/g, '')}@contoso.example>\n` +
      `Date: Tue, 01 Dec 2026 09:30:00 +0100\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n` +
      `Content-Transfer-Encoding: 8bit\n\nDie Zahlen für das dritte Quartal: Umsatz gestiegen.${extra}\n`,
  );

/** The report body lines of the usual case: To, Cc, Bcc, an expanded list and a forward. */
export const REPORT_LINES = [
  'Sender: alice@contoso.example',
  'Message-Id: <q3@contoso.example>',
  'To: bob@fabrikam.example',
  'Cc: carol@contoso.example',
  'Bcc: erin@contoso.example',
  'To: dave@contoso.example, Expanded: vertrieb@contoso.example',
  'Recipient: frank@contoso.example, Forwarded: grace@contoso.example',
];

export function journalReport(opts: {
  subject: string;
  lines?: string[];
  /** The attached original; none for a report without one. */
  attached?: Buffer;
  /** base64 as Exchange Online often sends it, or 7bit. */
  encoding?: 'base64' | '7bit';
  id?: string;
}): Buffer {
  const b = `_rep_${(opts.id ?? opts.subject).replace(/\W/g, '')}_`;
  const lines = opts.lines ?? [`Subject: ${opts.subject}`, ...REPORT_LINES];
  const head = crlf(
    'From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.onmicrosoft.com>\n' +
      `To: journal@archiv.example\nSubject: ${opts.subject}\nX-MS-Journal-Report: \n` +
      `Message-ID: <report-${opts.id ?? opts.subject.replace(/\W/g, '')}@contoso.onmicrosoft.com>\n` +
      `Date: Tue, 01 Dec 2026 08:30:05 +0000\nMIME-Version: 1.0\n` +
      `Content-Type: multipart/mixed; boundary="${b}"\n\n--${b}\n` +
      'Content-Type: text/plain; charset="us-ascii"\nContent-Transfer-Encoding: 7bit\n\n' +
      `${lines.join('\n')}\n\n`,
  );
  if (!opts.attached) return Buffer.concat([head, crlf(`--${b}--\n`)]);
  const base64 = opts.encoding === 'base64';
  const body = base64
    ? crlf(`${opts.attached.toString('base64').replace(/.{76}/g, '$&\n')}\n`)
    : opts.attached;
  return Buffer.concat([
    head,
    crlf(
      `--${b}\nContent-Type: message/rfc822\nContent-Disposition: attachment\n` +
        (base64 ? 'Content-Transfer-Encoding: base64\n' : '') +
        '\n',
    ),
    body,
    crlf(`\n--${b}--\n`),
  ]);
}
