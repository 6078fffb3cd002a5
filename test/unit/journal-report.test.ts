import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { MetadataExtractor } from '../../lib/ingest/mime-metadata';
import { journalOriginal, readOriginalView } from '../../lib/mail/journal-original';
import { MAX_REPORT_RECIPIENTS, parseJournalReport } from '../../lib/mail/journal-report';
import { isAttachmentTerm } from '../../lib/search/index-terms';
import { indexedDoc } from '../../lib/search/indexed-doc';
import { crlf } from '../helpers/archive';
import { journalReport, original } from '../helpers/journal-reports';

/**
 * Microsoft journal reports (issue 22 §2), written to the published format: read as the original
 * mail with the report's full recipient list, flagged when malformed, and unwrapped for display
 * byte for byte.
 */

async function extract(mail: Buffer) {
  const x = new MetadataExtractor();
  // In small chunks, as it arrives over SMTP.
  for (let i = 0; i < mail.length; i += 64) x.write(mail.subarray(i, i + 64));
  x.end();
  return x.result;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const addresses = (list: { address: string }[]) => list.map((a) => a.address);

describe('journal reports', () => {
  it('are read as the original, with Bcc, expanded and forwarded recipients from the report', async () => {
    for (const encoding of ['7bit', 'base64'] as const) {
      const inner = original('Quartalszahlen Q3');
      const { metadata, tokens } = await extract(
        journalReport({ subject: 'Quartalszahlen Q3', attached: inner, encoding }),
      );
      expect(addresses(metadata.from)).toEqual(['alice@contoso.example']);
      expect(addresses(metadata.to)).toEqual(['bob@fabrikam.example']);
      expect(addresses(metadata.cc)).toEqual(['carol@contoso.example']);
      // Not in the original's headers: only the report knows them.
      expect(addresses(metadata.bcc)).toEqual([
        'erin@contoso.example',
        'dave@contoso.example',
        'frank@contoso.example',
      ]);
      expect(metadata.messageId).toBe('<Quartalszahlen Q3@contoso.example>'.replace(' ', ''));
      expect(metadata.journal).toEqual({
        parts: [0],
        sender: 'alice@contoso.example',
        recipients: [
          { address: 'bob@fabrikam.example', field: 'to' },
          { address: 'carol@contoso.example', field: 'cc' },
          { address: 'erin@contoso.example', field: 'bcc' },
          {
            address: 'dave@contoso.example',
            field: 'to',
            expandedFrom: 'vertrieb@contoso.example',
          },
          {
            address: 'frank@contoso.example',
            field: 'recipient',
            forwardedFrom: 'grace@contoso.example',
          },
        ],
        originalSha256: sha(inner),
      });
      // The original's words are the mail's own words, not attachment text; the report's are not.
      expect(tokens).toContain('quartal');
      expect(tokens).toContain('erin@contoso.example');
      expect(tokens.some((t) => isAttachmentTerm(t) && t.startsWith('quartal'))).toBe(false);
      expect(tokens).not.toContain('expanded');
      // The index entry: the original's fields, Bcc in the mailboxes, where the original is.
      const doc = indexedDoc('id', { size: 1, received_at: new Date() }, metadata, []);
      expect(doc.subject).toBe('Quartalszahlen Q3');
      expect(doc.mailboxes).toContain('erin@contoso.example');
      expect(doc.journal).toEqual({ parts: [0] });
    }
  });

  it('the same original journaled in two reports has the same original hash', async () => {
    const inner = original('Zweimal journalt');
    const a = await extract(
      journalReport({ subject: 'Zweimal journalt', attached: inner, id: 'a' }),
    );
    const b = await extract(
      journalReport({ subject: 'Zweimal journalt', attached: inner, id: 'b', encoding: 'base64' }),
    );
    expect(a.metadata.journal!.originalSha256).toBe(sha(inner));
    expect(b.metadata.journal!.originalSha256).toBe(sha(inner));
  });

  it('a report without an attached original stays as received, flagged', async () => {
    const { metadata } = await extract(journalReport({ subject: 'Ohne Anhang' }));
    expect(addresses(metadata.from)[0]).toMatch(/^microsoftexchange/);
    expect(metadata.journal).toMatchObject({ parts: [], problem: 'no-original' });
    expect(metadata.journal!.recipients).toHaveLength(5);
    const doc = indexedDoc('id', { size: 1, received_at: new Date() }, metadata, []);
    expect(doc.journal).toEqual({ parts: [], problem: 'no-original' });
  });

  it('a report whose body lists nothing is unwrapped but flagged', async () => {
    const { metadata } = await extract(
      journalReport({
        subject: 'Leerer Bericht',
        lines: ['Dies ist kein Journalbericht.'],
        attached: original('Leerer Bericht'),
      }),
    );
    expect(metadata.subject).toBe('Leerer Bericht');
    expect(addresses(metadata.from)).toEqual(['alice@contoso.example']);
    expect(metadata.journal).toMatchObject({ parts: [0], problem: 'unreadable-report' });
  });

  it('a report inside a report: the innermost original, every recipient of both', async () => {
    const inner = original('Verschachtelt');
    const first = journalReport({ subject: 'Verschachtelt', attached: inner, id: 'innen' });
    const outer = journalReport({
      subject: 'Verschachtelt',
      attached: first,
      id: 'aussen',
      lines: ['Sender: alice@contoso.example', 'Bcc: heidi@partner.example'],
    });
    const { metadata, tokens } = await extract(outer);
    expect(metadata.subject).toBe('Verschachtelt');
    expect(addresses(metadata.from)).toEqual(['alice@contoso.example']);
    expect(metadata.journal!.parts).toEqual([0, 0]);
    expect(metadata.journal!.originalSha256).toBe(sha(inner));
    expect(addresses(metadata.bcc)).toEqual(
      expect.arrayContaining(['erin@contoso.example', 'heidi@partner.example']),
    );
    expect(tokens).toContain('heidi@partner.example');
    // Unwrapped for display: exactly the original's bytes.
    const chunks: Buffer[] = [];
    for await (const c of journalOriginal(Readable.from([outer]), [0, 0])) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(inner)).toBe(true);
    expect((await readOriginalView(outer)).subject).toBe('Verschachtelt');
  });

  it('an ordinary forward (no report header) is not unwrapped', async () => {
    const forward = crlf(
      'From: x@firma.example\nTo: y@firma.example\nSubject: Fwd\nContent-Type: multipart/mixed; boundary="f"\n\n' +
        '--f\nContent-Type: text/plain\n\nSiehe Anhang\n--f\nContent-Type: message/rfc822\n\n',
    );
    const mail = Buffer.concat([forward, original('Weitergeleitet'), crlf('\n--f--\n')]);
    const { metadata } = await extract(mail);
    expect(metadata.subject).toBe('Fwd');
    expect(metadata.journal).toBeUndefined();
    expect((await readOriginalView(mail)).subject).toBe('Fwd');
  });

  it('report bodies: tolerant of odd lines, bounded in recipients, null without fields', () => {
    expect(parseJournalReport('Hallo Welt\n\nnichts hier')).toBeNull();
    const odd = parseJournalReport(
      'Sender: <Alice@Contoso.Example>\nTo: kaputt\nCc: carol@contoso.example, Expanded: \nX-Foo: bar\n',
    )!;
    expect(odd.sender).toBe('alice@contoso.example');
    expect(odd.recipients).toEqual([{ address: 'carol@contoso.example', field: 'cc' }]);
    expect(odd.unknownLines).toBe(2);
    const many = parseJournalReport(
      Array.from({ length: MAX_REPORT_RECIPIENTS + 50 }, (_, i) => `To: r${i}@x.example`).join(
        '\n',
      ),
    )!;
    expect(many.recipients).toHaveLength(MAX_REPORT_RECIPIENTS);
  });
});
