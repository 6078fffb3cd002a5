import { readTnef, TnefError, TNEF_LIMITS } from '../../lib/extract/tnef';
import { documentText } from '../../lib/extract/document-text';
import { compressedRtf, tnef } from '../helpers/tnef';

/** Outlook's winmail.dat (issue 20 §1): attachments and body read in place, hostile input bounded. */

describe('TNEF', () => {
  it('gives the attachments with their long names, and the plain body', () => {
    const blob = tnef('Guten Tag, anbei der Vertrag.', [
      { name: 'Vertragsentwurf Müller.pdf', data: Buffer.from('%PDF-1.4 x') },
      { name: 'notiz.txt', data: Buffer.from('Kormoran') },
    ]);
    const read = readTnef(blob);
    expect(read.body).toBe('Guten Tag, anbei der Vertrag.');
    expect(read.attachments.map((a) => [a.name, Buffer.from(a.data).toString()])).toEqual([
      ['Vertragsentwurf Müller.pdf', '%PDF-1.4 x'],
      ['notiz.txt', 'Kormoran'],
    ]);
  });

  it('refuses what is not TNEF, a length past the end, and too many attributes', () => {
    expect(() => readTnef(Buffer.from('kein TNEF'))).toThrow(TnefError);
    const blob = tnef('x', [{ name: 'a.txt', data: Buffer.from('abc') }]);
    // An attribute whose length reaches past the end of the blob.
    const long = Buffer.from(blob);
    long.writeUInt32LE(0xffffff00, 6 + 5);
    expect(() => readTnef(long)).toThrow(/longer than the blob/);
    expect(() => readTnef(blob.subarray(0, blob.length - 3))).toThrow(
      /longer than the blob|truncated/,
    );
    // Attributes of zero length, as many as fit: stopped at the limit, not read to the end.
    const empty = Buffer.from([2, 0x10, 0x80, 1, 0, 0, 0, 0, 0, 0, 0]);
    const many = Buffer.concat([
      blob.subarray(0, 6),
      ...Array(TNEF_LIMITS.attributes + 1).fill(empty),
    ]);
    expect(() => readTnef(many)).toThrow(/too many attributes/);
  });

  it('stops at the attachment limit', () => {
    const files = Array.from({ length: TNEF_LIMITS.attachments + 1 }, (_, i) => ({
      name: `f${i}.txt`,
      data: Buffer.from('x'),
    }));
    expect(() => readTnef(tnef('', files))).toThrow(/too many attachments/);
  });
});

describe('the compressed RTF body of a winmail.dat', () => {
  it('is found among the message properties, past a named property', () => {
    const rtf = compressedRtf('{\\rtf1\\ansi Rotkehlchen}');
    const read = readTnef(tnef('', [], { rtfCompressed: rtf }));
    expect(read.body).toBeUndefined();
    expect(Buffer.from(read.rtfCompressed!)).toEqual(rtf);
  });

  it('decompresses to its RTF: the vector of MS-OXRTFCP §3.1.1 and our literal-only writer', async () => {
    const vector = Buffer.from(
      '2d0000002b0000004c5a4675f1c5c7a703000a0072637067313235423' +
        '20af32068656c090020627705b06c647d0a800fa0',
      'hex',
    );
    expect((await documentText(vector, 'compressed-rtf', 1000)).pages[0]!.text).toMatch(
      /hello world/,
    );
    const ours = compressedRtf('{\\rtf1\\ansi\\deff0 Guten Tag, Rotkehlchen am Fenster.\\par}');
    expect((await documentText(ours, 'compressed-rtf', 1000)).pages[0]!.text).toMatch(
      /Rotkehlchen am Fenster/,
    );
  });

  it('refuses a header size that is not the blob’s own (the decompressor would run on past it)', async () => {
    const ours = compressedRtf('{\\rtf1 x}');
    ours.writeUInt32LE(0x7fffffff, 0);
    await expect(documentText(ours, 'compressed-rtf', 1000)).rejects.toMatchObject({
      reason: 'damaged',
    });
  });
});
