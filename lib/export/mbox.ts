/**
 * One mail as an mboxrd entry: a `From ` separator line, the mail with every line that starts with
 * `>*From ` quoted by one more `>`, and a blank line — so any mbox reader gets the mail back byte for
 * byte after unquoting (mboxrd, not mboxo: quoting is reversible).
 */
export function mboxEntry(mail: Buffer, receivedAt: Date): Buffer {
  const when = receivedAt
    .toUTCString()
    .replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1 $3 $2 $5 $4');
  const body = mail.toString('latin1').replace(/^(>*From )/gm, '>$1');
  const end = body.endsWith('\n') ? '' : '\n';
  return Buffer.concat([
    Buffer.from(`From MAILER-DAEMON ${when}\n`, 'latin1'),
    Buffer.from(`${body}${end}\n`, 'latin1'),
  ]);
}
