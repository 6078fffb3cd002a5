/**
 * What an import checks per entry before it archives it, and the receipt time it keeps. A
 * malformed entry is reported with its reason and skipped; the import goes on.
 */

/** An RFC 5322 header field line: a name of printable characters except ':' and a colon. */
const HEADER_LINE = /^[!-9;-~]+[ \t]*:/;

/** Why an entry is skipped: a message key of the portal's dictionaries and its values. */
export interface EntryProblem {
  reason: string;
  params?: Record<string, string | number>;
}

export const tooLarge = (maxBytes: number): EntryProblem => ({
  reason: 'import.skip.tooLarge',
  params: { mib: Math.round(maxBytes / 1024 / 1024) },
});

export function entryProblem(bytes: Buffer, maxBytes: number): EntryProblem | undefined {
  if (!bytes.length) return { reason: 'import.skip.empty' };
  if (bytes.length > maxBytes) return tooLarge(maxBytes);
  const firstLine = bytes
    .subarray(0, Math.min(bytes.length, 2000))
    .toString('latin1')
    .split(/\r?\n/)[0]!;
  if (!HEADER_LINE.test(firstLine)) return { reason: 'import.skip.noHeader' };
  return undefined;
}

/** The header block, unfolded, as name (lower case) → values in order. */
function headers(bytes: Buffer): Map<string, string[]> {
  const text = bytes.subarray(0, Math.min(bytes.length, 256 * 1024)).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const out = new Map<string, string[]>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    out.set(name, [...(out.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return out;
}

const valid = (d: Date) => (Number.isNaN(d.getTime()) ? undefined : d);

/**
 * When the mail was originally received: the MBOX separator's date, else the date of the topmost
 * Received header (the last hop's, written by the receiving server), else the Date header.
 */
export function originalReceiptTime(bytes: Buffer, mboxSeparator?: string): Date | undefined {
  if (mboxSeparator) {
    // `From sender Tue Mar 18 10:00:00 2025` (asctime, local time of the writer: read as UTC).
    const m =
      /\s((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?\s+(?:[+-]\d{4}\s+)?\d{4})\s*$/.exec(
        mboxSeparator,
      );
    if (m) {
      const parts = m[1]!.split(/\s+/);
      const year = parts[parts.length - 1];
      const zone = parts.length === 6 ? parts[4] : '+0000';
      const d = valid(new Date(`${parts[2]} ${parts[1]} ${year} ${parts[3]} ${zone}`));
      if (d) return d;
    }
  }
  const h = headers(bytes);
  const received = h.get('received')?.[0];
  if (received?.includes(';')) {
    const d = valid(new Date(received.slice(received.lastIndexOf(';') + 1).trim()));
    if (d) return d;
  }
  const date = h.get('date')?.[0];
  return date ? valid(new Date(date.replace(/\s*\([^)]*\)\s*$/, ''))) : undefined;
}
