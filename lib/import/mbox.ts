/**
 * Splits an MBOX stream into mails (mboxo/mboxrd as Thunderbird, mutt and Google Takeout write
 * them): a mail starts at a line beginning with `From ` at the start of the file or after a blank
 * line; that separator line is not part of the mail, but its date is the time the mail was
 * received. `>From ` lines (any number of `>`) lose one `>`, undoing the writer's quoting. Works on
 * chunks of any size; memory holds the current mail only.
 */

export interface MboxEntry {
  /** 0-based position in the file. */
  index: number;
  bytes: Buffer;
  /** The separator line (`From sender date`), for the receipt time. */
  separator: string;
}

const FROM = Buffer.from('From ');

export class MboxSplitter {
  private partial = Buffer.alloc(0);
  private lines: Buffer[] = [];
  private separator: string | undefined;
  private previousBlank = true;
  private count = 0;
  private preamble = 0;

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
    const blank = line.length <= 2 && (line[0] === 0x0a || (line[0] === 0x0d && line[1] === 0x0a));
    if (this.previousBlank && line.subarray(0, 5).equals(FROM)) {
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
    let i = 0;
    while (line[i] === 0x3e /* > */) i++;
    this.lines.push(i > 0 && line.subarray(i, i + 5).equals(FROM) ? line.subarray(1) : line);
  }

  private flush(out: MboxEntry[]): void {
    if (this.separator === undefined) return;
    // The blank line before the next separator belongs to the format, not to the mail.
    const last = this.lines[this.lines.length - 1];
    if (last && (last.equals(Buffer.from('\n')) || last.equals(Buffer.from('\r\n'))))
      this.lines.pop();
    out.push({ index: this.count++, bytes: Buffer.concat(this.lines), separator: this.separator });
    this.lines = [];
    this.separator = undefined;
  }
}
