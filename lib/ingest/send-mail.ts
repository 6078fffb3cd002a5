import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { lmtpCertFile, type Config } from '../config';

/**
 * Delivering a mail to this archive the way a customer's server does (issue 25 §4, `mailrepo
 * send` and `mailrepo demo`): LMTP, or SMTP to a journal address, always with STARTTLS checked
 * against the listener's certificate unless told otherwise. Client side by nodemailer.
 */

export interface IngestTarget {
  protocol: 'lmtp' | 'smtp';
  host: string;
  port: number;
  /** PEM the listener's certificate must chain to (the dev listener's own self-signed one). */
  ca?: string;
  /** Plain connection (development only: the CLI refuses it in production). */
  noTls?: boolean;
  auth?: { user: string; pass: string };
}

/** The configured listener, with the dev certificate as trust anchor when that is what it uses. */
export function configuredTarget(cfg: Config, protocol: 'lmtp' | 'smtp'): IngestTarget {
  return {
    protocol,
    host: protocol === 'lmtp' ? cfg.LMTP_HOST : cfg.JOURNAL_SMTP_HOST,
    port: protocol === 'lmtp' ? cfg.LMTP_PORT : cfg.JOURNAL_SMTP_PORT,
    ...(lmtpCertFile(cfg) ? { ca: readFileSync(lmtpCertFile(cfg)!, 'utf8') } : {}),
  };
}

export interface SendResult {
  accepted: string[];
  rejected: string[];
  /** The server's last reply, e.g. "250 2.0.0 <id> archived". */
  response: string;
}

/** A transport for many mails over one connection (the demo), or one (send). */
export function ingestTransport(t: IngestTarget) {
  return nodemailer.createTransport({
    host: t.host,
    port: t.port,
    lmtp: t.protocol === 'lmtp',
    secure: false,
    requireTLS: !t.noTls,
    ignoreTLS: !!t.noTls,
    tls: { ...(t.ca ? { ca: t.ca } : {}), minVersion: 'TLSv1.2' },
    ...(t.auth ? { auth: t.auth } : {}),
    pool: true,
    maxConnections: 1,
    maxMessages: Infinity,
    connectionTimeout: 10_000,
  });
}

export async function sendRaw(
  transport: ReturnType<typeof ingestTransport>,
  mail: { from: string; to: string[]; raw: Buffer },
): Promise<SendResult> {
  const info = await transport.sendMail({
    envelope: { from: mail.from, to: mail.to },
    raw: mail.raw,
  });
  return {
    accepted: info.accepted.map(String),
    rejected: info.rejected.map(String),
    response: info.response,
  };
}
