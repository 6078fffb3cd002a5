/**
 * A TNEF blob (`winmail.dat`) as Outlook writes one (MS-OXTNEF §2.1.3): the signature and key,
 * a plain-text body, and per attachment its rendering marker, 8.3 title, data and (optionally) a
 * MAPI property list with the long file name. Checksums are the byte sums the format defines.
 */

function attribute(level: number, id: number, type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt8(level, 0);
  head.writeUInt16LE(id, 1);
  head.writeUInt16LE(type, 3);
  head.writeUInt32LE(data.length, 5);
  const sum = Buffer.alloc(2);
  sum.writeUInt16LE(
    data.reduce((s, b) => (s + b) & 0xffff, 0),
    0,
  );
  return Buffer.concat([head, data, sum]);
}

/** MAPI properties with one PT_UNICODE PR_ATTACH_LONG_FILENAME. */
function longName(name: string): Buffer {
  const value = Buffer.from(`${name}\0`, 'utf16le');
  const padded = Buffer.alloc((value.length + 3) & ~3);
  value.copy(padded);
  const out = Buffer.alloc(16);
  out.writeUInt32LE(1, 0); // one property
  out.writeUInt16LE(0x001f, 4); // PT_UNICODE
  out.writeUInt16LE(0x3707, 6); // PR_ATTACH_LONG_FILENAME
  out.writeUInt32LE(1, 8); // one value
  out.writeUInt32LE(value.length, 12);
  return Buffer.concat([out, padded]);
}

/**
 * RTF as compressed RTF (MS-OXRTFCP §2.1.3.1) made only of literal runs — valid, if not small: a
 * control byte of 0 before every eight bytes. The CRC is left 0 (our reader does not check it).
 */
export function compressedRtf(rtf: string): Buffer {
  const raw = Buffer.from(rtf, 'latin1');
  const runs: Buffer[] = [];
  for (let at = 0; at < raw.length; at += 8) runs.push(Buffer.from([0]), raw.subarray(at, at + 8));
  const body = Buffer.concat(runs);
  const head = Buffer.alloc(16);
  head.writeUInt32LE(body.length + 12, 0);
  head.writeUInt32LE(raw.length, 4);
  head.writeUInt32LE(0x75465a4c, 8); // "LZFu"
  return Buffer.concat([head, body]);
}

/**
 * The message's MAPI properties as Outlook lists them before the body: a named property (by name,
 * with its GUID), a PT_LONG, then PR_RTF_COMPRESSED.
 */
function messageProps(rtf: Buffer): Buffer {
  const name = Buffer.from('Keywords\0', 'utf16le');
  const named = Buffer.alloc(4 + 16 + 4 + 4);
  named.writeUInt16LE(0x0003, 0); // PT_LONG
  named.writeUInt16LE(0x8005, 2);
  named.writeUInt32LE(1, 20); // identified by name
  named.writeUInt32LE(name.length, 24);
  const long = Buffer.alloc(4 + 4);
  long.writeUInt16LE(0x0003, 0);
  long.writeUInt16LE(0x0e07, 2); // PR_MESSAGE_FLAGS
  const binary = Buffer.alloc(12);
  binary.writeUInt16LE(0x0102, 0); // PT_BINARY
  binary.writeUInt16LE(0x1009, 2); // PR_RTF_COMPRESSED
  binary.writeUInt32LE(1, 4);
  binary.writeUInt32LE(rtf.length, 8);
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(((b.length + 3) & ~3) - b.length)]);
  const count = Buffer.alloc(4);
  count.writeUInt32LE(3, 0);
  return Buffer.concat([count, named, pad(name), Buffer.alloc(4), long, binary, pad(rtf)]);
}

export function tnef(
  body: string,
  attachments: { name: string; data: Buffer }[],
  opts: { rtfCompressed?: Buffer } = {},
): Buffer {
  const start = Buffer.alloc(6);
  start.writeUInt32LE(0x223e9f78, 0);
  start.writeUInt16LE(0x0001, 4);
  const parts: Buffer[] = [start];
  if (body) parts.push(attribute(1, 0x800c, 0x0002, Buffer.from(body, 'latin1')));
  if (opts.rtfCompressed)
    parts.push(attribute(1, 0x9003, 0x0006, messageProps(opts.rtfCompressed)));
  for (const a of attachments) {
    parts.push(attribute(2, 0x9002, 0x0006, Buffer.alloc(14)));
    parts.push(attribute(2, 0x8010, 0x0001, Buffer.from(`${a.name.slice(0, 8)}\0`, 'latin1')));
    parts.push(attribute(2, 0x800f, 0x0006, a.data));
    parts.push(attribute(2, 0x9005, 0x0006, longName(a.name)));
  }
  return Buffer.concat(parts);
}
