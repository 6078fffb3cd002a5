import http from 'node:http';
import { registry } from './metrics';

/**
 * The process's Prometheus endpoint: `GET /metrics` on its own port (never the portal's public
 * one), by default on loopback — Prometheus scrapes it there or through the deployment's network.
 */
export function startMetricsServer(host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
