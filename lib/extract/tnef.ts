/**
 * The attachments and plain body of a TNEF blob (`winmail.dat`, `application/ms-tnef`), which
 * Outlook sends instead of MIME parts (MS-OXTNEF §2.1.3): a signature, then attributes of
 * (level, id, type, length, data, checksum). Hand-written: the one maintained-looking npm reader
 * copies the rest of the input for every attribute (quadratic on hostile input) and logs through
 * bunyan; this reads in place, bounded by the input, with limits on attributes and attachments.
 * Only what the index needs: file names, contents, the plain-text body and the compressed RTF body
 * (PR_RTF_COMPRESSED among the message's MAPI properties — what Outlook usually sends instead of a
 * plain body), which is decompressed and read on an extraction thread like any RTF document.
 */

const SIGNATURE = 0x223e9f78;
const LEVEL_MESSAGE = 1;
const LEVEL_ATTACHMENT = 2;
const ATT_BODY = 0x800c;
const ATT_ATTACH_DATA = 0x800f;
const ATT_ATTACH_TITLE = 0x8010;
const ATT_ATTACH_REND_DATA = 0x9002;
const ATT_ATTACHMENT = 0x9005;
const ATT_MSG_PROPS = 0x9003;
/** MAPI property PR_ATTACH_LONG_FILENAME (PT_STRING8 / PT_UNICODE). */
const PR_ATTACH_LONG_FILENAME = 0x3707;
/** MAPI property PR_RTF_COMPRESSED (PT_BINARY). */
const PR_RTF_COMPRESSED = 0x1009;

export const TNEF_LIMITS = { attributes: 10_000, attachments: 500 };

export interface Tnef {
  attachments: { name: string; data: Uint8Array }[];
  body?: string;
  /** The message body as compressed RTF (MS-OXRTFCP), still compressed. */
  rtfCompressed?: Uint8Array;
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
    if (level === LEVEL_MESSAGE && id === ATT_MSG_PROPS)
      out.rtfCompressed = mapiProperty(value, PR_RTF_COMPRESSED)?.bytes ?? out.rtfCompressed;
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
      const long = mapiProperty(value, PR_ATTACH_LONG_FILENAME);
      if (long)
        current.name = (
          long.type === 0x001f ? Buffer.from(long.bytes).toString('utf16le') : latin1(long.bytes)
        ).replace(/\0+$/, '');
    }
  }
  return out;
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1').replace(/\0+$/, '');

/**
 * The first value of MAPI property `wanted` (a string or binary one) from a property list, if it is
 * there; anything this does not understand ends the look.
 */
function mapiProperty(
  props: Uint8Array,
  wanted: number,
): { type: number; bytes: Uint8Array } | undefined {
  const view = new DataView(props.buffer, props.byteOffset, props.byteLength);
  const pad4 = (n: number) => (n + 3) & ~3;
  if (props.length < 4) return undefined;
  const count = view.getUint32(0, true);
  let at = 4;
  for (let i = 0; i < count && i < 1000 && at + 4 <= props.length; i++) {
    const type = view.getUint16(at, true);
    const id = view.getUint16(at + 2, true);
    at += 4;
    // A named property (MS-OXTNEF §2.1.3.5): its GUID, then a numeric id or a UTF-16 name.
    if (id >= 0x8000) {
      if (at + 24 > props.length) return undefined;
      const byName = view.getUint32(at + 16, true) === 1;
      at += 20;
      at += byName ? 4 + pad4(view.getUint32(at, true)) : 4;
    }
    const base = type & 0x0fff;
    const multi = (type & 0x1000) !== 0;
    const fixed: Record<number, number> = { 0x0002: 4, 0x0003: 4, 0x000b: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x0014: 8, 0x0040: 8, 0x000a: 4, 0x0048: 16 }; // prettier-ignore
    if (fixed[base] !== undefined) {
      if (multi) {
        if (at + 4 > props.length) return undefined;
        at += 4 + view.getUint32(at, true) * fixed[base]!;
      } else at += pad4(fixed[base]!);
      continue;
    }
    if (base !== 0x001e && base !== 0x001f && base !== 0x0102 && base !== 0x000d) return undefined;
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
      if (id === wanted) return { type: base, bytes };
    }
  }
  return undefined;
} // prettier-ignore
