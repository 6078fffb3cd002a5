import http from 'node:http';
import { pidListeningOn, rssBytes } from '../helpers/process-rss';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 17 §2: one unauthenticated request must not inflate the portal. A 1 GB chunked POST to
 * /login is refused once it passes the form limit, the rest is never buffered, and the process's
 * memory stays within 64 MB of where it was. Before the limit, the same request took the portal
 * from 209 MB to 1.77 GB.
 */
const cfg = stackConfig();
const GB = 1024 ** 3;
const MB = 1024 ** 2;

/** Streams up to `total` bytes of form data; resolves with the status once the server answers. */
function chunkedPost(path: string, total: number): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request({
      host: '127.0.0.1',
      port: cfg.WEB_PORT,
      path,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode!, sent });
      req.destroy();
    });
    req.on('error', (e) => (answered ? undefined : reject(e)));
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    req.write('email=a%40b.de&password=');
    pump();
  });
}

it('a 1 GB chunked POST /login is refused with 413 and leaves the portal within +64 MB', async () => {
  const pid = pidListeningOn(cfg.WEB_PORT);
  const before = rssBytes(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 50);
  try {
    const r = await chunkedPost('/login', GB);
    expect(r.status).toBe(413);
    // Refused long before the gigabyte: the server stopped at its limit, not at the end.
    expect(r.sent).toBeLessThan(GB);
    await new Promise((res) => setTimeout(res, 500));
  } finally {
    clearInterval(sampler);
  }
  expect(peak - before).toBeLessThan(64 * MB);
}, 120_000);

it('a declared Content-Length over the limit is refused before any body is read', async () => {
  const res = await fetch(`http://127.0.0.1:${cfg.WEB_PORT}/settings/retention`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'x='.padEnd(cfg.WEB_MAX_FORM_BYTES + 10, 'x'),
  });
  expect(res.status).toBe(413);
});

it('a form under the limit still reaches the action', async () => {
  const res = await fetch(`http://127.0.0.1:${cfg.WEB_PORT}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Accept-Language': 'de' },
    body: 'email=niemand%40nirgends.example&password=falsch',
  });
  expect(res.status).toBe(401);
});
