import type { SMTPServer, SMTPServerSession } from 'smtp-server';

/**
 * What both ingest listeners (LMTP, SMTP journaling) hold to: connections per client address
 * reserved at connect (parallel connects cannot overshoot), mails in DATA at once bounded, and a
 * drain for restarts that finishes what is in flight and answers 421 to everything new.
 */

export const smtpError = (code: number, text: string) =>
  Object.assign(new Error(text), { responseCode: code });

export const TEMPORARILY_UNAVAILABLE = '4.3.0 archive temporarily unavailable, try again later';
export const RESTARTING = '4.3.2 mailrepo is restarting, try again later';

export class ListenerGuard {
  private readonly connectionsByIp = new Map<string, number>();
  private readonly counted = new Set<string>();
  inFlight = 0;
  draining = false;

  constructor(
    private readonly opts: { maxConnectionsPerIp: number; maxConcurrentMails: number },
    /** An error reply before DATA, counted by the listener's metric. */
    private readonly refuse: (code: number, text: string) => Error,
  ) {}

  onConnect(session: SMTPServerSession, cb: (err?: Error) => void): void {
    if (this.draining) return cb(this.refuse(421, RESTARTING));
    const ip = session.remoteAddress;
    const open = this.connectionsByIp.get(ip) ?? 0;
    if (open >= this.opts.maxConnectionsPerIp)
      return cb(this.refuse(421, '4.7.0 too many connections from your address, try again later'));
    this.connectionsByIp.set(ip, open + 1);
    this.counted.add(session.id);
    cb();
  }

  onClose(session: SMTPServerSession): void {
    if (!this.counted.delete(session.id)) return;
    const left = (this.connectionsByIp.get(session.remoteAddress) ?? 1) - 1;
    if (left > 0) this.connectionsByIp.set(session.remoteAddress, left);
    else this.connectionsByIp.delete(session.remoteAddress);
  }

  /** Reserves a slot for one mail's DATA; the caller calls `endMail` when it is answered. */
  startMail(): boolean {
    if (this.inFlight >= this.opts.maxConcurrentMails) return false;
    this.inFlight++;
    return true;
  }

  endMail(): void {
    this.inFlight--;
  }

  /** Finishes mails in flight (up to `graceMs`), then closes; new sessions get 421 meanwhile. */
  async drain(server: SMTPServer, graceMs: number): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    (server.options as { closeTimeout?: number }).closeTimeout = 500;
    await new Promise<void>((r) => server.close(() => r()));
  }
}
