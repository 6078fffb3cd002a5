import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'; // prettier-ignore
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, isPortOpen, waitFor } from '../../infra/processes';

/**
 * A private Dovecot (Debian's dovecot-imapd, installed by `npm test`'s pre-step) on loopback: its
 * own configuration, users and Maildir storage in a temp directory, nothing of the system's
 * Dovecot touched. IMAPS and STARTTLS with a certificate for 127.0.0.1 from a CA of its own
 * (`ca`), plaintext logins refused. The peer of the IMAP import and restore tests (issue 22 §5).
 */

const run = promisify(execFile);
const DOVECOT = '/usr/sbin/dovecot';

export interface DovecotInstance {
  imapsPort: number;
  imapPort: number;
  /** The CA the server certificate chains to (PEM). */
  ca: string;
  /** A user's Maildir (where Dovecot keeps the bytes). */
  maildir(user: string): string;
  stop(): Promise<void>;
}

export async function startDovecot(
  users: { user: string; password: string }[],
): Promise<DovecotInstance> {
  if (!existsSync(DOVECOT))
    throw new Error(
      'Dovecot is not installed: apt-get install dovecot-imapd (npm test does this as root)',
    );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-dovecot-'));
  chmodSync(dir, 0o755);
  const [imapsPort, imapPort] = [await freePort(), await freePort()];
  // A CA and a server certificate it signs, for 127.0.0.1 (what the client connects to).
  const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=Dovecot Test CA', '-days', '2', '-keyout', 'ca.key', '-out', 'ca.pem']); // prettier-ignore
  ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']); // prettier-ignore
  writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ossl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem']); // prettier-ignore
  // Mail is stored as the dovecot system user (Dovecot refuses to run mail as root).
  const uid = Number(execFileSync('id', ['-u', 'dovecot']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'dovecot']).toString().trim());
  const home = path.join(dir, 'home');
  mkdirSync(home);
  chownSync(home, uid, gid);
  writeFileSync(
    path.join(dir, 'users'),
    users.map((u) => `${u.user}:{PLAIN}${u.password}::::::`).join('\n') + '\n',
    { mode: 0o640 },
  );
  chownSync(path.join(dir, 'users'), 0, gid);
  const conf = `
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = required
ssl_cert = <${dir}/server.pem
ssl_key = <${dir}/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = ${uid}
last_valid_uid = ${uid}
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:~/Maildir
mail_save_crlf = yes
mail_uid = ${uid}
mail_gid = ${gid}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = home=${home}/%u
}
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${imapsPort}
    ssl = yes
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0
  }
  unix_listener stats-writer {
    mode = 0
  }
}
`;
  const confFile = path.join(dir, 'dovecot.conf');
  writeFileSync(confFile, conf);
  await run(DOVECOT, ['-c', confFile], { timeout: 30_000 });
  await waitFor('Dovecot', async () => ((await isPortOpen(imapsPort)) ? true : undefined), 30_000);
  return {
    imapsPort,
    imapPort,
    ca: readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
    maildir: (user) => path.join(home, user, 'Maildir'),
    async stop() {
      await run('doveadm', ['-c', confFile, 'stop'], { timeout: 30_000 }).catch(() =>
        run(DOVECOT, ['-c', confFile, 'stop'], { timeout: 30_000 }).catch(() => undefined),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
