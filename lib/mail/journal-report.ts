/**
 * Microsoft's journal reports (Exchange and Exchange Online envelope journaling, issue 22 §2): a
 * mail with the header `X-MS-Journal-Report`, whose first text part lists the original's envelope
 * one field per line, and whose `message/rfc822` attachment is the original mail:
 *
 *     Sender: alice@contoso.com
 *     Subject: Quartalszahlen
 *     Message-Id: <a1@contoso.com>
 *     To: bob@fabrikam.com
 *     To: carol@contoso.com, Expanded: vertrieb@contoso.com
 *     Cc: dave@contoso.com
 *     Bcc: erin@contoso.com
 *     Recipient: frank@contoso.com, Forwarded: grace@contoso.com
 *
 * The report body is the only place Bcc recipients and the members of expanded distribution lists
 * appear, so it is read here; everything else comes from the attached original.
 */

export const JOURNAL_REPORT_HEADER = 'x-ms-journal-report';

export type RecipientField = 'to' | 'cc' | 'bcc' | 'recipient';

export interface JournalRecipient {
  address: string;
  field: RecipientField;
  /** The distribution list the recipient was expanded from. */
  expandedFrom?: string;
  /** The address that forwarded to the recipient. */
  forwardedFrom?: string;
}

export interface JournalReport {
  sender: string | null;
  onBehalfOf: string | null;
  subject: string | null;
  messageId: string | null;
  recipients: JournalRecipient[];
  /** Lines that are not report fields (a report that does not follow the format says so). */
  unknownLines: number;
}

/** Bounds for hostile reports: a real one lists at most a few thousand recipients. */
export const MAX_REPORT_RECIPIENTS = 10_000;

const ADDRESS = /^<?([^<>\s@,;]+@[^<>\s@,;]+)>?$/;
const bare = (v: string): string | null => {
  const m = ADDRESS.exec(v.trim());
  return m ? m[1]!.toLowerCase() : null;
};

/** Reads a report body; a body that has none of the fields gives null (not a report). */
export function parseJournalReport(body: string): JournalReport | null {
  const report: JournalReport = {
    sender: null,
    onBehalfOf: null,
    subject: null,
    messageId: null,
    recipients: [],
    unknownLines: 0,
  };
  let fields = 0;
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (!line) continue;
    const m = /^([A-Za-z-]+):\s?(.*)$/.exec(line);
    const key = m?.[1]!.toLowerCase();
    const value = m?.[2] ?? '';
    switch (key) {
      case 'sender':
        report.sender = bare(value);
        break;
      case 'on-behalf-of':
        report.onBehalfOf = bare(value);
        break;
      case 'subject':
        report.subject = value;
        break;
      case 'message-id':
        report.messageId = value.trim() || null;
        break;
      case 'to':
      case 'cc':
      case 'bcc':
      case 'recipient': {
        const r = recipient(key, value);
        if (!r) report.unknownLines++;
        else if (report.recipients.length < MAX_REPORT_RECIPIENTS) report.recipients.push(r);
        break;
      }
      default:
        report.unknownLines++;
        continue;
    }
    fields++;
  }
  return fields > 0 && (report.sender || report.recipients.length) ? report : null;
}

/** `addr`, `addr, Expanded: list` or `addr, Forwarded: from`. */
function recipient(field: RecipientField, value: string): JournalRecipient | null {
  const [first, ...rest] = value.split(',');
  const address = bare(first ?? '');
  if (!address) return null;
  const r: JournalRecipient = { address, field };
  for (const extra of rest) {
    const m = /^\s*(Expanded|Forwarded):\s*(.+)$/i.exec(extra);
    const who = m ? bare(m[2]!) : null;
    if (!m || !who) continue;
    if (m[1]!.toLowerCase() === 'expanded') r.expandedFrom = who;
    else r.forwardedFrom = who;
  }
  return r;
}
