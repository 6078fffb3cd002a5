import { ImapFlow } from 'imapflow';
import { isIP } from 'node:net';
import type { ImapImportInput } from '../../contracts/import';

/**
 * An IMAP account as an import or a restore reaches it (issue 22 §3/§4), always over TLS with the
 * server's certificate checked: implicit TLS (993) or STARTTLS required (143), never cleartext.
 * `ca` trusts a private CA (an on-premises server), never "no check". The password is held only as
 * long as the connection needs it and never logged.
 */
export type ImapAccount = ImapImportInput['account'];

/** The server refused the login, or its certificate did not check out: retrying will not help. */
export class ImapRefusedError extends Error {
  override name = 'ImapRefusedError';
}

/** TLS errors of a certificate that does not check out (not of a network that is down). */
const CERTIFICATE = /CERT|SIGNATURE|ALTNAME|ISSUER|SELF_SIGNED/;

export async function connectImap(account: ImapAccount): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: account.host,
    port: account.port,
    secure: account.security === 'tls',
    doSTARTTLS: account.security === 'starttls' ? true : undefined,
    auth: { user: account.user, pass: account.password },
    tls: {
      rejectUnauthorized: true,
      ...(isIP(account.host) ? {} : { servername: account.host }),
      minVersion: 'TLSv1.2',
      ...(account.ca ? { ca: account.ca } : {}),
    },
    logger: false,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 5 * 60_000,
  });
  // A dropped connection surfaces in the running command; the event must not end the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    if ((e as { authenticationFailed?: boolean }).authenticationFailed)
      throw new ImapRefusedError(`the IMAP server refused the login of ${account.user}`);
    const code = String((e as { code?: unknown }).code ?? '');
    if (CERTIFICATE.test(code))
      throw new ImapRefusedError(
        `the IMAP server's certificate was not accepted (${code}): ${(e as Error).message}`,
      );
    throw e;
  }
  return client;
}
