/**
 * The attachments and plain body of a TNEF blob (`winmail.dat`, `application/ms-tnef`), which
 * Outlook sends instead of MIME parts (MS-OXTNEF §2.1.3): a signature, then attributes of
 * (level, id, type, length, data, checksum). Hand-written: the one maintained-looking npm reader
 * copies the rest of the input for every attribute (quadratic on hostile input) and logs through
 * bunyan; this reads in place, bounded by the input, with limits on attributes and attachments.
 * Only what the index needs: file names, contents, and the plain-text body. The compressed RTF
 * body (PR_RTF_COMPRESSED in the MAPI properties) is not read.
 */

const SIGNATURE = 0x223e9f78;
const LEVEL_MESSAGE = 1;
const LEVEL_ATTACHMENT = 2;
const ATT_BODY = 0x800c;
const ATT_ATTACH_DATA = 0x800f;
const ATT_ATTACH_TITLE = 0x8010;
const ATT_ATTACH_REND_DATA = 0x9002;
const ATT_ATTACHMENT = 0x9005;
/** MAPI property PR_ATTACH_LONG_FILENAME (PT_STRING8 / PT_UNICODE). */
const PR_ATTACH_LONG_FILENAME = 0x3707;

export const TNEF_LIMITS = { attributes: 10_000, attachments: 500 };

export interface Tnef {
  attachments: { name: string; data: Uint8Array }[];
  body?: string;
}

export class TnefError extends Error {
  override name = 'TnefError';
}

export function readTnef(data: Uint8Array): Tnef {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 6 || view.getUint32(0, true) !== SIGNATURE)
    throw new TnefError('not a TNEF blob');
  const out: Tnef = { attachments: [] };
  let current: { name: string; data: Uint8Array } | undefined;
  let at = 6;
  for (let n = 0; at < data.length; n++) {
    if (n >= TNEF_LIMITS.attributes) throw new TnefError('too many attributes');
    if (at + 9 > data.length) throw new TnefError('truncated attribute');
    const level = data[at]!;
    const id = view.getUint16(at + 1, true);
    const length = view.getUint32(at + 5, true);
    const start = at + 9;
    if (length > data.length - start - 2) throw new TnefError('attribute longer than the blob');
    const value = data.subarray(start, start + length);
    at = start + length + 2;
    if (level === LEVEL_MESSAGE && id === ATT_BODY) out.body = latin1(value);
    if (level !== LEVEL_ATTACHMENT) continue;
    if (id === ATT_ATTACH_REND_DATA) {
      if (out.attachments.length >= TNEF_LIMITS.attachments)
        throw new TnefError('too many attachments');
      current = { name: '', data: new Uint8Array(0) };
      out.attachments.push(current);
    } else if (current && id === ATT_ATTACH_TITLE) {
      if (!current.name) current.name = latin1(value);
    } else if (current && id === ATT_ATTACH_DATA) current.data = value;
    else if (current && id === ATT_ATTACHMENT) {
      const long = longFilename(value);
      if (long) current.name = long;
    }
  }
  return out;
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1').replace(/\0+$/, '');

/**
 * PR_ATTACH_LONG_FILENAME from an attachment's MAPI property list, if it is there; anything it
 * does not understand ends the look (the 8.3 title stays).
 */
function longFilename(props: Uint8Array): string | undefined {
  const view = new DataView(props.buffer, props.byteOffset, props.byteLength);
  const pad4 = (n: number) => (n + 3) & ~3;
  if (props.length < 4) return undefined;
  const count = view.getUint32(0, true);
  let at = 4;
  for (let i = 0; i < count && i < 1000 && at + 4 <= props.length; i++) {
    const type = view.getUint16(at, true);
    const id = view.getUint16(at + 2, true);
    at += 4;
    if (id >= 0x8000) return undefined; // named properties: their layout is longer; stop here
    const fixed: Record<number, number> = { 0x0002: 4, 0x0003: 4, 0x000b: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x0014: 8, 0x0040: 8, 0x000a: 4 }; // prettier-ignore
    if (fixed[type] !== undefined) {
      at += fixed[type]!;
      continue;
    }
    if (type !== 0x001e && type !== 0x001f && type !== 0x0102 && type !== 0x000d) return undefined;
    if (at + 4 > props.length) return undefined;
    const values = view.getUint32(at, true);
    at += 4;
    for (let v = 0; v < values && v < 1000; v++) {
      if (at + 4 > props.length) return undefined;
      const size = view.getUint32(at, true);
      at += 4;
      if (size > props.length - at) return undefined;
      const bytes = props.subarray(at, at + size);
      at += pad4(size);
      if (id === PR_ATTACH_LONG_FILENAME)
        return (type === 0x001f ? Buffer.from(bytes).toString('utf16le') : latin1(bytes)).replace(/\0+$/, '');
    }
  }
  return undefined;
} // prettier-ignore
