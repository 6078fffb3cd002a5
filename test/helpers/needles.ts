/**
 * Every form in which bytes might sit in a dump or an object: raw; hex in either case (pg_dump
 * writes bytea as `\x…` hex); base64 from each of the three byte alignments, without the edge
 * characters the neighbouring bytes would change — so a secret inside a longer base64 text is
 * found too, not only as one aligned, padded string.
 */
export function encodings(bytes: Buffer): Buffer[] {
  const hex = bytes.toString('hex');
  const out = [bytes, Buffer.from(hex), Buffer.from(hex.toUpperCase())];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes, Buffer.alloc(2)]);
    const b64 = padded.toString('base64');
    const core = b64.slice(shift ? 4 : 0, 4 * Math.floor((shift + bytes.length) / 3));
    if (core.length >= 12) out.push(Buffer.from(core));
  }
  return out;
}

/** The encodings of `needle` found in `haystack`, named, for a readable failure. */
export function foundIn(haystack: Buffer, needle: Buffer, label: string): string[] {
  const names = ['raw', 'hex', 'HEX', 'base64+0', 'base64+1', 'base64+2'];
  return encodings(needle)
    .map((e, i) => (haystack.includes(e) ? `${label} as ${names[i]}` : ''))
    .filter(Boolean);
}
