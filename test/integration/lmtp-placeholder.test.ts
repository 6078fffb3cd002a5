import net from 'node:net';
import { stackConfig } from '../helpers/stack-env';

/** Until ingest exists, LMTP must never acknowledge a message it did not store: 4xx, never 250. */
describe('LMTP worker before ingest is enabled', () => {
  const cfg = stackConfig();

  function converse(lines: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port: cfg.LMTP_PORT });
      let out = '';
      let step = 0;
      socket.setTimeout(10_000, () => socket.destroy(new Error(`timeout; transcript:\n${out}`)));
      socket.on('error', reject);
      socket.on('data', (d) => {
        out += d.toString();
        // Send the next line whenever the server has finished a (possibly multi-line) reply.
        while (
          /^\d{3} .*\r\n$/m.test(out.split('\r\n').slice(-2).join('\r\n')) &&
          step < lines.length
        ) {
          socket.write(`${lines[step++]}\r\n`);
          if (lines[step - 1] === 'DATA') break;
          break;
        }
        if (step === lines.length && /\r\n$/.test(out) && /^221 /m.test(out)) socket.end();
      });
      socket.on('close', () => resolve(out));
    });
  }

  it('answers DATA with 451 per recipient so the sender retries', async () => {
    const transcript = await converse([
      'LHLO test.example',
      'MAIL FROM:<journal@customer.example>',
      'RCPT TO:<archive@tenant.example>',
      'DATA',
      'Subject: test\r\n\r\nhello\r\n.',
      'QUIT',
    ]);
    expect(transcript).toMatch(/^220 /);
    expect(transcript).toMatch(/^451 .*ingest not enabled/m);
    expect(transcript).not.toMatch(/^250 .*(queued|accepted|ok).*\r\n221/im);
    const afterData = transcript.slice(transcript.indexOf('354'));
    expect(afterData).not.toMatch(/^250 /m);
  });
});
