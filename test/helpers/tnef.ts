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

export function tnef(body: string, attachments: { name: string; data: Buffer }[]): Buffer {
  const start = Buffer.alloc(6);
  start.writeUInt32LE(0x223e9f78, 0);
  start.writeUInt16LE(0x0001, 4);
  const parts = [start, attribute(1, 0x800c, 0x0002, Buffer.from(body, 'latin1'))];
  for (const a of attachments) {
    parts.push(attribute(2, 0x9002, 0x0006, Buffer.alloc(14)));
    parts.push(attribute(2, 0x8010, 0x0001, Buffer.from(`${a.name.slice(0, 8)}\0`, 'latin1')));
    parts.push(attribute(2, 0x800f, 0x0006, a.data));
    parts.push(attribute(2, 0x9005, 0x0006, longName(a.name)));
  }
  return Buffer.concat(parts);
}
