import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { recordAudit } from '../audit/record';
import { withTenant } from '../db/tenant-scope';
import { metrics } from '../metrics/metrics';
import { SERVER_TLS } from '../tls/policy';
import { resolveJournalAddress, type JournalRecipient } from './journal-addresses';
import { journalDkimDomains } from './journal-settings';
import { ListenerGuard, RESTARTING, smtpError, TEMPORARILY_UNAVAILABLE } from './listener-guard';
import { receiveMail, type DeliveryCheck, type IngestDeps, type Outcome } from './receive';
import { dkimRefusal, startSenderAuth, type SenderAuthInput } from './sender-auth';

/**
 * The SMTP journaling listener (issue 22 §1): where Microsoft 365, Google Workspace or an MTA's
 * `always_bcc` send a copy of every mail. Nobody logs in: a recipient is accepted only when it is
 * a live journal address of a tenant (its random local part is the credential), every other one
 * gets 550 5.1.1 alike. One transaction delivers to one tenant (recipients of a second get 452 and
 * come again in a transaction of their own), so the single reply after DATA is that tenant's:
 * `250` only once the ciphertext is durable and its workflow started, 4xx on any failure, 552 past
 * the size limit. SPF, DKIM, ARC and DMARC are checked on the arriving bytes and kept with the
 * receipt; a tenant that lists DKIM domains refuses mail none of them signed (550 5.7.1, audited).
 */

export interface SmtpJournalOptions {
  tls?: { cert: Buffer; key: Buffer };
  requireTls: boolean;
  /** The domain journal addresses live on. */
  domain: string;
  /** Our host name: the greeting and the authserv-id of the sender checks. */
  hostname: string;
  maxMessageBytes: number;
  maxConnections: number;
  maxConcurrentMails: number;
  maxRecipients: number;
  maxConnectionsPerIp: number;
  senderAuth: Pick<SenderAuthInput, 'resolver' | 'timeoutMs'>;
}

const refuse = (code: number, text: string) => {
  metrics.journalReplies.inc({ code: String(code) });
  return smtpError(code, text);
};

interface Transaction {
  tenantId?: string;
  recipients: JournalRecipient[];
}

export function createSmtpJournalServer(deps: IngestDeps, opts: SmtpJournalOptions) {
  const transactions = new Map<string, Transaction>();
  const guard = new ListenerGuard(opts, refuse);

  const server = new SMTPServer({
    name: opts.hostname,
    banner: 'mailrepo journaling ready',
    // Nobody authenticates here: the journal address is the credential.
    disabledCommands: opts.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    authOptional: true,
    ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key, ...SERVER_TLS } : {}),
    size: opts.maxMessageBytes,
    maxClients: opts.maxConnections,
    logger: false,
    onConnect: (session, cb) => guard.onConnect(session, cb),
    onMailFrom(_address, session, cb) {
      if (guard.draining) return cb(refuse(421, RESTARTING));
      if (opts.requireTls && !session.secure)
        return cb(refuse(530, '5.7.0 Must issue a STARTTLS command first'));
      transactions.set(session.id, { recipients: [] });
      cb();
    },
    onRcptTo(address, session, cb) {
      const tx = transactions.get(session.id);
      if (!tx) return cb(refuse(503, '5.5.1 MAIL FROM first'));
      if (tx.recipients.length >= opts.maxRecipients)
        return cb(refuse(452, '4.5.3 too many recipients, send the rest again'));
      resolveJournalAddress(deps.db, address.address, opts.domain).then(
        (found) => {
          if (!found) return cb(refuse(550, '5.1.1 not a journal address of this archive'));
          if (tx.tenantId && tx.tenantId !== found.tenantId)
            return cb(refuse(452, '4.5.3 one archive per transaction, send this one again'));
          tx.tenantId = found.tenantId;
          if (!tx.recipients.some((r) => r.addressId === found.addressId))
            tx.recipients.push(found);
          cb();
        },
        (err: unknown) => {
          deps.log.error({ err }, 'journal address lookup failed');
          cb(refuse(451, TEMPORARILY_UNAVAILABLE));
        },
      );
    },
    onData(stream, session, cb) {
      const tx = transactions.get(session.id);
      if (!tx?.tenantId) {
        stream.resume();
        return cb(refuse(554, '5.5.1 no valid recipients'));
      }
      if (!guard.startMail()) {
        stream.resume();
        return cb(refuse(451, '4.3.2 too many mails in progress, try again later'));
      }
      const tenantId = tx.tenantId;
      const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      receiveMail(
        deps,
        stream,
        {
          mailFrom,
          // The envelope keeps recognisable stand-ins: the addresses themselves are secrets.
          recipients: tx.recipients.map((r) => ({ address: r.shown, tenantId })),
          remoteAddress: session.remoteAddress,
          clientHostname: session.hostNameAppearsAs,
          journalAddressIds: tx.recipients.map((r) => r.addressId),
        },
        senderCheck(session, mailFrom, tx.recipients[0]!.addressId),
      )
        .then((outcomes) => {
          metrics.mailsReceived.inc();
          const o = outcomes.get(tenantId);
          const r = reply(o);
          metrics.journalReplies.inc({ code: r instanceof Error ? String(codeOf(r)) : '250' });
          if (r instanceof Error) cb(r);
          else cb(null, r);
        })
        .catch((err: unknown) => {
          deps.log.error({ err }, 'journal ingest failed');
          cb(refuse(451, TEMPORARILY_UNAVAILABLE));
        })
        .finally(() => guard.endMail());
    },
    onClose(session: SMTPServerSession) {
      transactions.delete(session.id);
      guard.onClose(session);
    },
  });
  server.on('error', (err) => deps.log.warn({ err }, 'SMTP journaling connection error'));

  /** SPF/DKIM/ARC/DMARC on the arriving bytes, and each tenant's DKIM rule on the results. */
  function senderCheck(session: SMTPServerSession, sender: string, addressId: string) {
    const auth = startSenderAuth({
      ip: session.remoteAddress,
      helo: session.hostNameAppearsAs,
      sender,
      mta: opts.hostname,
      ...opts.senderAuth,
    });
    return {
      sink: auth.sink,
      verdict: auth.results.then((results) => ({
        recorded: { senderAuth: results },
        refusal: async (tenantId: string): Promise<Outcome | undefined> => {
          if (!dkimRefusal(results, await journalDkimDomains(deps.db, tenantId))) return undefined;
          await withTenant(deps.db, tenantId, (t) =>
            recordAudit(t, tenantId, {
              action: 'ingest.delivery_refused',
              actor: { type: 'system', label: 'smtp-journal' },
              ip: session.remoteAddress,
              target: { type: 'journal-address', id: addressId },
              details: {
                reason: 'dkim',
                signers: results.dkim.filter((s) => s.result === 'pass').map((s) => s.domain),
              },
            }),
          );
          return {
            ok: false,
            code: 550,
            text: '5.7.1 not signed (DKIM) by a domain this archive accepts journal mail from',
          };
        },
      })),
    } satisfies DeliveryCheck;
  }

  return {
    server,
    get inFlight() {
      return guard.inFlight;
    },
    drain: (graceMs: number) => guard.drain(server, graceMs),
  };
}

const codeOf = (e: Error) => (e as { responseCode?: number }).responseCode ?? 451;

function reply(o: Outcome | undefined): string | Error {
  if (!o) return smtpError(451, TEMPORARILY_UNAVAILABLE);
  if (!o.ok) return smtpError(o.code, o.text);
  return `2.0.0 ${o.messageId} archived`;
}
