import { tooLarge, type EntryProblem } from './entry';

/**
 * Splits an MBOX stream into mails (mboxo/mboxrd as Thunderbird, mutt and Google Takeout write
 * them): a mail starts at a line beginning with `From ` at the start of the file or after a blank
 * line; that separator line is not part of the mail, but its date is the time the mail was
 * received. `>From ` lines (any number of `>`) lose one `>`, undoing the writer's quoting. Works on
 * chunks of any size; memory holds the current mail only, and at most `maxBytes` of it: a mail
 * (or a line) beyond that is counted, not kept, and comes back as too large (issue 17 §2).
 */

export type MboxEntry = {
  /** 0-based position in the file. */
  index: number;
  /** The separator line (`From sender date`), for the receipt time. */
  separator: string;
} & ({ bytes: Buffer; problem?: undefined } | { bytes?: undefined; problem: EntryProblem });

const FROM = Buffer.from('From ');
const FRAGMENT = 64 * 1024;

export class MboxSplitter {
  private partial = Buffer.alloc(0);
  private lines: Buffer[] = [];
  private separator: string | undefined;
  private previousBlank = true;
  private count = 0;
  private preamble = 0;
  /** Bytes of the current mail so far, and whether they passed the limit. */
  private size = 0;
  private oversize = false;
  /** The next bytes continue a line that was too long to hold: they cannot start a mail. */
  private continuing = false;

  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {}

  /** Bytes before the first separator that were not blank (a file that is not MBOX at all). */
  get ignoredBytes(): number {
    return this.preamble;
  }

  push(chunk: Buffer): MboxEntry[] {
    const out: MboxEntry[] = [];
    let data = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break;
      this.line(data.subarray(start, nl + 1), out);
      start = nl + 1;
    }
    data = data.subarray(start);
    if (data.length > FRAGMENT) {
      // A long line is passed on in fragments (which cannot start a mail or be unquoted), so a
      // line is never held whole and never copied again with every chunk.
      this.line(data, out);
      this.continuing = true;
      data = data.subarray(data.length);
    }
    this.partial = Buffer.from(data);
    return out;
  }

  end(): MboxEntry[] {
    const out: MboxEntry[] = [];
    if (this.partial.length) this.line(this.partial, out);
    this.partial = Buffer.alloc(0);
    this.flush(out);
    return out;
  }

  private line(line: Buffer, out: MboxEntry[]): void {
    const continued = this.continuing;
    this.continuing = false;
    const blank =
      !continued &&
      line.length <= 2 &&
      (line[0] === 0x0a || (line[0] === 0x0d && line[1] === 0x0a));
    if (!continued && this.previousBlank && line.subarray(0, 5).equals(FROM)) {
      this.flush(out);
      this.separator = line.toString('latin1').trim();
      this.previousBlank = false;
      return;
    }
    this.previousBlank = blank;
    if (this.separator === undefined) {
      if (!blank) this.preamble += line.length;
      return;
    }
    this.size += line.length;
    if (this.size > this.maxBytes) {
      this.oversize = true;
      this.lines = [];
    }
    if (this.oversize) return;
    let i = 0;
    while (!continued && line[i] === 0x3e /* > */) i++;
    this.lines.push(i > 0 && line.subarray(i, i + 5).equals(FROM) ? line.subarray(1) : line);
  }

  private flush(out: MboxEntry[]): void {
    if (this.separator === undefined) return;
    // The blank line before the next separator belongs to the format, not to the mail.
    const last = this.lines[this.lines.length - 1];
    if (last && (last.equals(Buffer.from('\n')) || last.equals(Buffer.from('\r\n'))))
      this.lines.pop();
    const index = this.count++;
    const separator = this.separator;
    out.push(
      this.oversize
        ? { index, separator, problem: tooLarge(this.maxBytes) }
        : { index, separator, bytes: Buffer.concat(this.lines) },
    );
    this.lines = [];
    this.separator = undefined;
    this.size = 0;
    this.oversize = false;
  }
}
