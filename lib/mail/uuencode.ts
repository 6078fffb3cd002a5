import { createHash } from 'node:crypto';

/**
 * Files uuencoded into a mail's text (`begin 644 name` … `end`), as mail programs sent them
 * before MIME and some gateways still do. Everything that reads a mail (ingest, the index job, the
 * mail page) takes them out of the text the same way and numbers them after the MIME attachments,
 * so a file has one index everywhere. Hand-written: the format is a few lines, the npm packages are
 * unmaintained, and the limits must hold while the text is read.
 */

export interface UuFile {
  name: string;
  data: Buffer;
  sha256: string;
}

export const UU_LIMITS = {
  /** Files taken from one text; later blocks stay text. */
  files: 100,
  /** Decoded bytes of all files of one text together. */
  bytes: 64 * 2 ** 20,
};

const BEGIN = /^begin [0-7]{3,4} (.{1,255})$/;

/** The text without its uuencoded blocks (each left as `[name]`), and the files they held. */
export function splitUuencoded(
  text: string,
  limits = UU_LIMITS,
): { text: string; files: UuFile[] } {
  // Almost every mail has none: one search decides.
  if (!/^begin [0-7]{3,4} /m.test(text)) return { text, files: [] };
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  const files: UuFile[] = [];
  let left = limits.bytes;
  for (let i = 0; i < lines.length; i++) {
    const begin = files.length < limits.files ? BEGIN.exec(lines[i]!) : null;
    if (!begin) {
      out.push(lines[i]!);
      continue;
    }
    const block = decodeBlock(lines, i + 1, left);
    if (!block) {
      out.push(lines[i]!);
      continue;
    }
    const name = begin[1]!.trim();
    files.push({
      name,
      data: block.data,
      sha256: createHash('sha256').update(block.data).digest('hex'),
    });
    left -= block.data.length;
    out.push(`[${name}]`);
    i = block.end;
  }
  return { text: out.join('\n'), files };
}

/**
 * The bytes of the block whose data starts at line `from`, and the index of its `end` line; or
 * null when it is not a complete, well-formed block within `maxBytes` (it then stays text).
 */
function decodeBlock(
  lines: string[],
  from: number,
  maxBytes: number,
): { data: Buffer; end: number } | null {
  const chunks: Buffer[] = [];
  let size = 0;
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!.replace(/\s+$/, '');
    if (line === 'end') return { data: Buffer.concat(chunks), end: i };
    if (line === '' || line === '`') continue;
    const n = (line.charCodeAt(0) - 32) & 63;
    // Each 3 bytes take 4 characters after the length character; some writers drop trailing pads.
    const chars = Math.ceil(n / 3) * 4;
    if (line.length - 1 < chars - 2) return null;
    const bytes = Buffer.alloc(n);
    for (let k = 1, o = 0; o < n; k += 4) {
      const a = sextet(line, k);
      const b = sextet(line, k + 1);
      const c = sextet(line, k + 2);
      const d = sextet(line, k + 3);
      if ((a | b | c | d) < 0) return null;
      bytes[o++] = (a << 2) | (b >> 4);
      if (o < n) bytes[o++] = ((b & 15) << 4) | (c >> 2);
      if (o < n) bytes[o++] = ((c & 3) << 6) | d;
    }
    size += n;
    if (size > maxBytes) return null;
    chunks.push(bytes);
  }
  return null;
}

/** The 6 bits of character `k` (a missing one counts as 0), or -1 if it is no uuencode character. */
function sextet(line: string, k: number): number {
  const x = k < line.length ? line.charCodeAt(k) : 32;
  return x < 32 || x > 96 ? -1 : (x - 32) & 63;
}
