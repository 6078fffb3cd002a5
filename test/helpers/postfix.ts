import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'; // prettier-ignore
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isPortOpen, waitFor } from '../../infra/processes';

/**
 * A private Postfix instance on loopback (its own config and queue directory, no chroot, nothing
 * of the system's Postfix touched) that accepts SMTP for `relayDomains` and delivers them over
 * LMTP to our worker — the way a customer's journaling MTA reaches us — and, when asked, journals
 * a copy of each over SMTP. Debian's postfix package
 * (installed by `npm test`'s pre-step).
 */

const run = promisify(execFile);
const POSTFIX = '/usr/sbin/postfix';

export interface PostfixInstance {
  smtpPort: number;
  /** Postfix's own log (maillog_file). */
  log(): string;
  /** True once no mail waits in the queue (every one delivered, bounced or deferred for good). */
  queueEmpty(): boolean;
  stop(): Promise<void>;
}

const MASTER_CF = (smtpPort: number) =>
  [
    `127.0.0.1:${smtpPort} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'tlsmgr unix - - n 1000? 1 tlsmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'lmtp unix - - n - - lmtp',
    'smtp unix - - n - - smtp',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ].join('\n') + '\n';

export async function startPostfix(o: {
  smtpPort: number;
  lmtpPort: number;
  relayDomains: string[];
  /** An ingest credential: Postfix then authenticates with AUTH PLAIN after STARTTLS. */
  sasl?: { user: string; secret: string };
  /** A client certificate from the ingest CA (PEM files), presented after STARTTLS. */
  clientCert?: { certFile: string; keyFile: string };
  /**
   * Journaling over SMTP (issue 22 §1) the way docs/ingest.md sets it up: `always_bcc` to a
   * journal address, whose domain Postfix relays to our SMTP listener over STARTTLS.
   */
  journal?: { address: string; domain: string; smtpPort: number };
}): Promise<PostfixInstance> {
  if (!existsSync(POSTFIX))
    throw new Error(
      'Postfix is not installed: apt-get install postfix (npm test does this as root)',
    );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-postfix-'));
  // The daemons run as the postfix user and must reach their queue below this directory.
  chmodSync(dir, 0o755);
  const etc = path.join(dir, 'etc');
  mkdirSync(etc);
  const mainCf = {
    compatibility_level: '3.6',
    queue_directory: path.join(dir, 'queue'),
    data_directory: path.join(dir, 'data'),
    maillog_file: path.join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    myhostname: 'mta.kunde.example',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mydestination: '',
    local_recipient_maps: '',
    alias_maps: '',
    alias_database: '',
    mynetworks: '127.0.0.0/8',
    smtpd_relay_restrictions: 'permit_mynetworks, reject',
    relay_domains: [...o.relayDomains, ...(o.journal ? [o.journal.domain] : [])].join(', '),
    relay_recipient_maps: '',
    // Journaled mail goes to our LMTP worker, over STARTTLS as in production.
    relay_transport: `lmtp:inet:127.0.0.1:${o.lmtpPort}`,
    lmtp_tls_security_level: 'encrypt',
    lmtp_tls_loglevel: '1',
    ...(o.sasl
      ? {
          lmtp_sasl_auth_enable: 'yes',
          lmtp_sasl_password_maps: `texthash:${path.join(etc, 'sasl-passwords')}`,
          lmtp_sasl_security_options: 'noanonymous',
          lmtp_sasl_tls_security_options: 'noanonymous',
          lmtp_sasl_mechanism_filter: 'plain',
        }
      : {}),
    ...(o.clientCert
      ? { lmtp_tls_cert_file: o.clientCert.certFile, lmtp_tls_key_file: o.clientCert.keyFile }
      : {}),
    ...(o.journal
      ? {
          always_bcc: o.journal.address,
          transport_maps: `inline:{ ${o.journal.domain}=smtp:[127.0.0.1]:${o.journal.smtpPort} }`,
          smtp_tls_security_level: 'encrypt',
          smtp_tls_loglevel: '1',
        }
      : {}),
    // Bounces to the (external) senders of the tests go nowhere.
    default_transport: 'discard',
    smtputf8_enable: 'yes',
    // A relay to the archive must not touch the mail: no address rewriting in headers, no added
    // Message-Id/Date/From (docs/ingest.md recommends the same for the MTA in front of us).
    local_header_rewrite_clients: '',
    biff: 'no',
    queue_run_delay: '2s',
    minimal_backoff_time: '2s',
    maximal_backoff_time: '5s',
  };
  writeFileSync(
    path.join(etc, 'main.cf'),
    Object.entries(mainCf)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') + '\n',
  );
  writeFileSync(path.join(etc, 'master.cf'), MASTER_CF(o.smtpPort));
  if (o.sasl) {
    // The LMTP client looks the next hop up in one of these forms; each names the same secret.
    const entry = `${o.sasl.user}:${o.sasl.secret}`;
    const hop = `127.0.0.1:${o.lmtpPort}`;
    writeFileSync(
      path.join(etc, 'sasl-passwords'),
      [`inet:${hop}`, `[127.0.0.1]:${o.lmtpPort}`, hop, '127.0.0.1', '[127.0.0.1]']
        .map((k) => `${k} ${entry}`)
        .join('\n') + '\n',
      { mode: 0o600 },
    );
  }
  // `check` creates the queue's subdirectories with their owners; it only needs the top one.
  mkdirSync(mainCf.queue_directory, { mode: 0o755 });
  await run(POSTFIX, ['-c', etc, 'check'], { timeout: 60_000 });
  await run(POSTFIX, ['-c', etc, 'start'], { timeout: 60_000 });
  await waitFor('Postfix', async () => ((await isPortOpen(o.smtpPort)) ? true : undefined), 30_000);

  const queueDirs = ['incoming', 'active', 'deferred', 'maildrop'].map((q) =>
    path.join(dir, 'queue', q),
  );
  const filesIn = (d: string): number =>
    existsSync(d)
      ? readdirSync(d, { withFileTypes: true }).reduce(
          (n, e) => n + (e.isDirectory() ? filesIn(path.join(d, e.name)) : 1),
          0,
        )
      : 0;
  return {
    smtpPort: o.smtpPort,
    log: () => {
      const f = path.join(dir, 'maillog');
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
    queueEmpty: () => queueDirs.every((d) => filesIn(d) === 0),
    async stop() {
      await run(POSTFIX, ['-c', etc, 'stop'], { timeout: 60_000 }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
