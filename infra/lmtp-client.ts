import net from 'node:net';

/**
 * A minimal pipelining LMTP client for the load benchmark and the fault tests: one reply per
 * recipient after DATA (RFC 2033), every reply kept as `"<code> <text>"`, a closed connection
 * turned into an error rather than a hang. Real-client coverage comes from Python's smtplib,
 * swaks and Postfix in the tests; this one exists to generate load and count outcomes.
 */

export interface Delivery {
  /** Reply to MAIL FROM. */
  mail: string;
  rcpt: Record<string, string>;
  /** Reply after the end of data, per recipient accepted at RCPT. */
  data: Record<string, string>;
  /** Milliseconds from the end of data to the first recipient's reply. */
  ackMs?: number;
}

export class LmtpClient {
  private buf = '';
  private readonly waiters: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  /** Replies that arrived before anyone waited for them (pipelining). */
  private readonly early: string[] = [];
  private closed: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      let i;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        // Only the last line of a multi-line reply ("250-…" continues, "250 …" ends).
        if (!/^\d{3}( |$)/.test(line)) continue;
        const w = this.waiters.shift();
        if (w) w.resolve(line);
        else this.early.push(line);
      }
    });
    const fail = (e: Error) => {
      this.closed ??= e;
      for (const w of this.waiters.splice(0)) w.reject(this.closed);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static async connect(port: number, host = '127.0.0.1', name = 'client.example') {
    const socket = net.connect({ host, port });
    const client = new LmtpClient(socket);
    await client.expect('220');
    socket.write(`LHLO ${name}\r\n`);
    await client.expect('250');
    return client;
  }

  private reply(): Promise<string> {
    if (this.early.length) return Promise.resolve(this.early.shift()!);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async expect(code: string): Promise<string> {
    const line = await this.reply();
    if (!line.startsWith(code)) throw new Error(`expected ${code}, got ${line}`);
    return line;
  }

  /** One transaction, pipelined: MAIL, RCPT…, DATA, then the dot-stuffed mail. */
  async send(mail: Buffer | Buffer[], from: string, rcpts: string[]): Promise<Delivery> {
    this.socket.write(
      `MAIL FROM:<${from}>\r\n${rcpts.map((r) => `RCPT TO:<${r}>\r\n`).join('')}DATA\r\n`,
    );
    const out: Delivery = { mail: await this.reply(), rcpt: {}, data: {} };
    for (const r of rcpts) out.rcpt[r] = await this.reply();
    const dataReply = await this.reply();
    const accepted = rcpts.filter((r) => out.rcpt[r]!.startsWith('2'));
    if (!dataReply.startsWith('354')) {
      for (const r of accepted) out.data[r] = dataReply;
      return out;
    }
    let endsWithNewline: boolean;
    if (Array.isArray(mail)) {
      // Parts written as they are, shared between senders (large mails in tests, without a copy
      // per connection): they must not need dot-stuffing.
      if (mail.some((p) => p.includes('\r\n.') || p[0] === 0x2e))
        throw new Error('mail parts must not need dot-stuffing');
      for (const part of mail) this.socket.write(part);
      endsWithNewline = mail.at(-1)?.subarray(-2).toString() === '\r\n';
    } else {
      const body = mail.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
      this.socket.write(Buffer.from(body, 'latin1'));
      endsWithNewline = body.endsWith('\r\n');
    }
    const t = performance.now();
    this.socket.write(endsWithNewline ? '.\r\n' : '\r\n.\r\n');
    for (const r of accepted) {
      out.data[r] = await this.reply();
      out.ackMs ??= performance.now() - t;
    }
    return out;
  }

  close(): void {
    if (!this.closed) this.socket.end('QUIT\r\n');
  }
}
