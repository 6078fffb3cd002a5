import type { TLSSocket } from 'node:tls';
import { sql } from 'kysely';
import { metrics } from '../metrics/metrics';
import { SERVER_TLS } from '../tls/policy';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { recordAudit } from '../audit/record';
import { withTenant } from '../db/tenant-scope';
import {
  checkCertificateCredential,
  checkPasswordCredential,
  type IngestIdentity,
} from './credentials';
import { receiveMail, type IngestDeps, type Outcome } from './receive';
import { ListenerGuard, RESTARTING, smtpError, TEMPORARILY_UNAVAILABLE } from './listener-guard';

/**
 * The LMTP endpoint (RFC 2033) on smtp-server: LHLO, PIPELINING, 8BITMIME, SMTPUTF8, STARTTLS,
 * a client certificate from the ingest CA or AUTH PLAIN (over TLS only), a size limit, connection and concurrency limits, one reply per
 * recipient after DATA. A session authenticated with a tenant's credential delivers to that
 * tenant's addresses only: any other recipient gets 550 5.7.1, the same answer whether or not the
 * address exists elsewhere, and is audited for the tenant. Unauthenticated sessions get 530 unless
 * development allows them. `drain()` finishes the mails in flight and answers 421 to everything
 * new, for a restart that loses nothing.
 */

export interface LmtpOptions {
  /** `clientCa`: the ingest CA; with it, clients may authenticate with a certificate it issued. */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  requireTls: boolean;
  maxMessageBytes: number;
  maxConnections: number;
  maxConcurrentMails: number;
  /** Recipients in one transaction; more get 452 4.5.3 and are sent again by the client. */
  maxRecipients: number;
  /** Open connections from one client address; more get 421 at connect. */
  maxConnectionsPerIp: number;
  /** Development only (production refuses it): sessions without credentials may deliver. */
  allowUnauthenticated: boolean;
  banner: string;
}

/** The identity smtp-server keeps as `session.user` after AUTH. */
const identityOf = (session: SMTPServerSession) =>
  session.user as unknown as IngestIdentity | undefined;

/** An error reply before DATA, counted by code. */
const refuse = (code: number, text: string) => {
  metrics.lmtpReplies.inc({ code: String(code) });
  return smtpError(code, text);
};

export function createLmtpServer(deps: IngestDeps, opts: LmtpOptions) {
  const tenantsBySession = new Map<string, Map<string, string>>();
  const guard = new ListenerGuard(opts, refuse);

  const server = new SMTPServer({
    lmtp: true,
    name: 'mailrepo',
    banner: opts.banner,
    authOptional: true,
    authMethods: ['PLAIN'],
    // AUTH only after STARTTLS (smtp-server's default): the secret never crosses in clear.
    disabledCommands: opts.tls ? [] : ['AUTH', 'STARTTLS'],
    onAuth(auth, _session, cb) {
      checkPasswordCredential(deps.db, auth.username ?? '', auth.password ?? '').then(
        (identity) => {
          if (!identity) {
            metrics.lmtpReplies.inc({ code: '535' });
            return cb(smtpError(535, '5.7.8 authentication credentials invalid'));
          }
          cb(null, { user: identity as unknown as string });
        },
        (err: unknown) => {
          deps.log.error({ err }, 'credential lookup failed');
          cb(smtpError(454, '4.7.0 temporary authentication failure'));
        },
      );
    },
    ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key, ...SERVER_TLS } : {}),
    // A certificate is asked for, never required (SASL clients have none); the chain is judged
    // in onSecure, so an unknown certificate gets a clear answer instead of a failed handshake.
    ...(opts.tls?.clientCa
      ? { requestCert: true, rejectUnauthorized: false, ca: opts.tls.clientCa }
      : {}),
    onSecure(socket, session, cb) {
      const tlsSocket = socket as TLSSocket;
      const peer = tlsSocket.getPeerCertificate?.();
      if (!opts.tls?.clientCa || !peer?.raw) return cb();
      const refused = (why: string) => {
        deps.log.warn({ remote: session.remoteAddress, why }, 'client certificate refused');
        cb(refuse(535, '5.7.8 client certificate not accepted'));
      };
      // Chain to the ingest CA and validity period, checked by OpenSSL during the handshake.
      if (!tlsSocket.authorized) return refused(String(tlsSocket.authorizationError));
      checkCertificateCredential(deps.db, peer.raw).then(
        (identity) => {
          if (!identity) return refused('no live credential for this certificate');
          session.user = identity as unknown as string;
          cb();
        },
        (err: unknown) => {
          deps.log.error({ err }, 'credential lookup failed');
          cb(smtpError(454, '4.7.0 temporary authentication failure'));
        },
      );
    },
    size: opts.maxMessageBytes,
    // smtp-server answers 452 4.5.3 past it; the client sends the rest in another transaction.
    maxRecipients: opts.maxRecipients,
    maxClients: opts.maxConnections,
    logger: false,
    onConnect: (session, cb) => guard.onConnect(session, cb),
    onMailFrom(_address, session, cb) {
      if (guard.draining) return cb(refuse(421, RESTARTING));
      if (opts.requireTls && !session.secure)
        return cb(refuse(530, '5.7.0 Must issue a STARTTLS command first'));
      if (!identityOf(session) && !opts.allowUnauthenticated)
        return cb(refuse(530, '5.7.0 Authentication required'));
      tenantsBySession.set(session.id, new Map());
      cb();
    },
    onRcptTo(address, session, cb) {
      const rcpt = address.address.toLowerCase();
      sql<{ tenant: string | null }>`SELECT ingest_address_tenant(${rcpt}) AS tenant`
        .execute(deps.db)
        .then(
          (r) => {
            const tenant = r.rows[0]?.tenant;
            const identity = identityOf(session);
            if (identity?.tenantId && tenant !== identity.tenantId)
              return void refuseForTenant(identity.tenantId, rcpt, session).then(() =>
                cb(refuse(550, `5.7.1 <${rcpt}>: not an address this credential delivers to`)),
              );
            if (!tenant) return cb(refuse(550, `5.1.1 <${rcpt}>: not an archive address`));
            tenantsBySession.get(session.id)?.set(address.address, tenant);
            cb();
          },
          (err: unknown) => {
            deps.log.error({ err }, 'recipient lookup failed');
            cb(refuse(451, TEMPORARILY_UNAVAILABLE));
          },
        );
    },
    onData(stream, session, cb) {
      if (!guard.startMail()) {
        stream.resume();
        return cb(refuse(451, '4.3.2 too many mails in progress, try again later'));
      }
      const map = tenantsBySession.get(session.id) ?? new Map<string, string>();
      const recipients = session.envelope.rcptTo.map((r) => ({
        address: r.address.toLowerCase(),
        tenantId: map.get(r.address)!,
      }));
      receiveMail(deps, stream, {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        recipients,
        remoteAddress: session.remoteAddress,
        clientHostname: session.hostNameAppearsAs,
        ...(identityOf(session) ? { credentialId: identityOf(session)!.credentialId } : {}),
      })
        .then((outcomes) => {
          metrics.mailsReceived.inc();
          // smtp-server counts the DATA bytes itself (a listener of ours would change the flow).
          metrics.bytesReceived.inc((stream as { byteLength?: number }).byteLength ?? 0);
          // "already archived" tells what a tenant holds: only to that tenant's own servers.
          const identity = identityOf(session);
          const replies = recipients.map((r) =>
            reply(outcomes.get(r.tenantId), !!identity && identity.tenantId === r.tenantId),
          );
          for (const r of replies) countReply(r instanceof Error ? r : 250);
          cb(null, replies);
        })
        .catch((err: unknown) => {
          deps.log.error({ err }, 'ingest failed');
          for (const _ of recipients) countReply(451);
          cb(smtpError(451, TEMPORARILY_UNAVAILABLE));
        })
        .finally(() => guard.endMail());
    },
    onClose(session: SMTPServerSession) {
      tenantsBySession.delete(session.id);
      guard.onClose(session);
    },
  });

  // smtp-server reports a client's reset connection (a sender quitting after a 535, say) as an
  // 'error' event: logged, never an unhandled event that ends the process.
  server.on('error', (err) => deps.log.warn({ err }, 'LMTP connection error'));

  /** A tenant's server named someone else's address (or none): the tenant's log says so. */
  async function refuseForTenant(tenantId: string, rcpt: string, session: SMTPServerSession) {
    await withTenant(deps.db, tenantId, (tx) =>
      recordAudit(tx, tenantId, {
        action: 'ingest.delivery_refused',
        actor: { type: 'system', label: 'lmtp' },
        ip: session.remoteAddress,
        target: { type: 'ingest-credential', id: identityOf(session)!.credentialId },
        details: { recipient: rcpt },
      }),
    ).catch((err: unknown) => deps.log.error({ err }, 'auditing a refused delivery failed'));
  }

  return {
    server,
    get inFlight() {
      return guard.inFlight;
    },
    /** Finishes mails in flight (up to `graceMs`), then closes; new sessions get 421 meanwhile. */
    drain: (graceMs: number) => guard.drain(server, graceMs),
  };
}

/** Counts one reply per recipient by its code (refusals before DATA included). */
function countReply(r: number | Error): void {
  const code = typeof r === 'number' ? r : ((r as { responseCode?: number }).responseCode ?? 451);
  metrics.lmtpReplies.inc({ code: String(code) });
}

function reply(o: Outcome | undefined, mayKnowDuplicates: boolean): string | Error {
  if (!o) return smtpError(451, TEMPORARILY_UNAVAILABLE);
  if (!o.ok) return smtpError(o.code, o.text);
  return o.duplicate && mayKnowDuplicates
    ? `2.0.0 ${o.messageId} already archived (duplicate delivery recorded)`
    : `2.0.0 ${o.messageId} archived`;
}
