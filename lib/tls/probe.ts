import net from 'node:net';
import tls from 'node:tls';

/**
 * Which TLS version a server negotiates with us — for `mailrepo doctor`, which shows it per
 * connection. The probe does not judge the certificate (the real clients do); it reports whether
 * it verified against the system's (or the given) roots.
 */
export interface TlsProbe {
  protocol: string;
  verified: boolean;
}

const DEFAULT_MS = 4000;

function handshake(options: tls.ConnectionOptions, ms = DEFAULT_MS): Promise<TlsProbe> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ ...options, rejectUnauthorized: false }, () => {
      const protocol = socket.getProtocol() ?? 'unknown';
      const verified = socket.authorized;
      socket.end();
      resolve({ protocol, verified });
    });
    socket.setTimeout(ms, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
}

/** A TLS server at host:port (HTTPS, gRPC, PostgreSQL-less services). */
export const probeTls = (host: string, port: number, extra: tls.ConnectionOptions = {}) =>
  handshake({ host, port, servername: net.isIP(host) ? undefined : host, ...extra });

/** An LMTP server: greeting, LHLO, STARTTLS, then the handshake on the same connection. */
export function probeLmtpStartTls(host: string, port: number, ms = DEFAULT_MS): Promise<TlsProbe> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(ms, () => socket.destroy(new Error('LMTP server did not answer')));
    socket.on('error', reject);
    let buf = '';
    let step: 'greeting' | 'lhlo' | 'starttls' = 'greeting';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      if (!/\r\n$/.test(buf)) return;
      const last = buf.trimEnd().split('\r\n').pop()!;
      if (step === 'greeting' && /^220 /.test(last)) {
        step = 'lhlo';
        buf = '';
        socket.write('LHLO doctor.mailrepo\r\n');
      } else if (step === 'lhlo' && /^250 /.test(last)) {
        if (!/STARTTLS/i.test(buf)) return socket.destroy(new Error('no STARTTLS offered'));
        step = 'starttls';
        buf = '';
        socket.write('STARTTLS\r\n');
      } else if (step === 'starttls' && /^220 /.test(last)) {
        socket.off('data', onData);
        socket.setTimeout(0);
        handshake({ socket, servername: net.isIP(host) ? undefined : host }, ms).then(
          resolve,
          reject,
        );
      } else if (/^[45]\d\d /.test(last)) socket.destroy(new Error(`LMTP answered: ${last}`));
    };
    socket.on('data', onData);
  });
}
