import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { splitUuencoded } from '../../lib/mail/uuencode';

/**
 * uuencoded files in a mail's text (issue 20 §1). The encodings come from Python's binascii (the
 * reference implementation mail tools used), not from our own encoder.
 */
const uuencode = (name: string, data: Buffer): string =>
  execFileSync(
    'python3',
    [
      '-c',
      `import sys,binascii
d=sys.stdin.buffer.read()
sys.stdout.write("begin 644 ${name}\\n")
for i in range(0,len(d),45): sys.stdout.write(binascii.b2a_uu(d[i:i+45],backtick=True).decode())
sys.stdout.write("\`\\nend\\n")`,
    ],
    { input: data, encoding: 'utf8' },
  );

describe('uuencoded files in a text', () => {
  it('takes each file out of the text, byte for byte, and leaves its name in its place', () => {
    const binary = randomBytes(10_000);
    const note = Buffer.from('Protokoll der Sitzung: Kiebitzwiese\n');
    const text = `Hallo,\n\nanbei zwei Dateien.\n\n${uuencode('protokoll.txt', note)}\n${uuencode(
      'daten.bin',
      binary,
    )}Gruß\n`;
    const { text: rest, files } = splitUuencoded(text);
    expect(files.map((f) => f.name)).toEqual(['protokoll.txt', 'daten.bin']);
    expect(files[0]!.data).toEqual(note);
    expect(files[1]!.data).toEqual(binary);
    expect(files[1]!.sha256).toBe(createHash('sha256').update(binary).digest('hex'));
    expect(rest).toBe('Hallo,\n\nanbei zwei Dateien.\n\n[protokoll.txt]\n\n[daten.bin]\nGruß\n');
  });

  it('leaves a text without blocks, an unfinished block and a damaged one as they are', () => {
    expect(splitUuencoded('begin the meeting at 10\nend')).toEqual({
      text: 'begin the meeting at 10\nend',
      files: [],
    });
    const block = uuencode('a.txt', Buffer.from('abc'));
    const unfinished = block.replace('end\n', '');
    expect(splitUuencoded(unfinished).files).toEqual([]);
    const damaged = block.replace(/^(begin.*\n.)/, '$1{{{{');
    expect(splitUuencoded(damaged).files).toEqual([]);
  });

  it('keeps to its limits: files beyond the count and bytes beyond the total stay text', () => {
    const one = uuencode('x.bin', randomBytes(100));
    const three = one + one + one;
    expect(splitUuencoded(three, { files: 2, bytes: 1e6 }).files).toHaveLength(2);
    expect(splitUuencoded(three, { files: 10, bytes: 250 }).files).toHaveLength(2);
  });
});
