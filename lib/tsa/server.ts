import http from 'node:http';
import type { Logger } from '../log';
import { respond, type ResponderOptions } from './responder';

const MAX_REQUEST = 16 * 1024;

/** RFC 3161 over HTTP (RFC 3161 §3.4): POST application/timestamp-query to `path`. */
export function createTsaServer(
  opts: ResponderOptions & { path?: string; log?: Logger },
): http.Server {
  const path = opts.path ?? '/tsa';
  return http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (req.url !== path) return void res.writeHead(404).end();
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    if (!(req.headers['content-type'] ?? '').startsWith('application/timestamp-query'))
      return void res.writeHead(415).end('expected application/timestamp-query');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST) {
        res.writeHead(413).end();
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      respond(Buffer.concat(chunks), opts).then(
        (body) => res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(body),
        (err) => {
          opts.log?.error({ err }, 'timestamp response failed');
          res.writeHead(500).end();
        },
      );
    });
  });
}
