import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** swaks (Debian's, installed by `npm test`'s pre-step): the SMTP/LMTP client of the tests. */

/** Runs swaks with the mail in a file; returns every server reply (code, text) in order. */
export async function swaks(mail: Buffer, args: string[]) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-swaks-'));
  try {
    // swaks ends DATA with CRLF of its own before the dot; without the file's last CRLF the bytes
    // on the wire are exactly `mail`.
    writeFileSync(
      path.join(dir, 'mail.eml'),
      mail.subarray(0, mail.length - (mail.subarray(-2).toString() === '\r\n' ? 2 : 0)),
    );
    const out = await new Promise<string>((resolve) =>
      execFile(
        'swaks',
        [...args, '--data', `@${path.join(dir, 'mail.eml')}`],
        { encoding: 'latin1', maxBuffer: 64 << 20, timeout: 120_000 },
        // swaks exits non-zero when a recipient is refused; the transcript tells what happened.
        (_err, stdout) => resolve(stdout),
      ),
    );
    // "<-  250 …" plain, "<~  250 …" under TLS, "<** 550 …" / "<~* 550 …" for errors.
    const replies = [...out.matchAll(/^<[-~*][-~* ] ?(\d{3}) (.*)$/gm)].map((m) => ({
      code: Number(m[1]),
      text: m[2]!,
    }));
    return { out, replies };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
