import type { NextFunction, Request, Response } from 'express';

/**
 * Every request body is bounded while it arrives, before anything parses it (issue 17 §2): a
 * declared Content-Length over the route's limit is answered 413 at once; a chunked body is
 * counted at the socket — where the HTTP parser hands each chunk to the request stream — and
 * dropped, with a 413, as soon as it passes the limit. Nothing past the limit is ever buffered,
 * so a gigabyte posted to /login costs what 64 KiB costs.
 */
export interface BodyLimits {
  /** Forms, JSON and everything not listed below. */
  forms: number;
  /** Routes that take uploads (exact paths), with their own limits. */
  uploads: { path: string; limit: number }[];
}

/** The route's limit; React Router's own fetches of a route go to `<path>.data`. */
export function limitFor(path: string, limits: BodyLimits): number {
  const route = path.replace(/\.data$/, '');
  return limits.uploads.find((u) => route === u.path)?.limit ?? limits.forms;
}

/** How long a refused client may go on sending (into nothing) after its 413. */
const LINGER_MS = 2000;

export function bodyLimit(limits: BodyLimits) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const limit = limitFor(req.path, limits);
    const refuse = () => {
      if (res.headersSent) return;
      // A lingering close: the client may still be sending. Closing at once would reset the
      // connection, and a reset can reach the client before our answer does (it then sees a
      // broken pipe, not a 413). So after the answer the server half-closes and goes on reading —
      // and dropping, see req.push below — for a moment before it lets go of the socket.
      const socket = req.socket;
      socket.destroySoon = () => {
        socket.end();
        setTimeout(() => socket.destroy(), LINGER_MS).unref();
      };
      res.status(413).set('Connection', 'close').type('text').send('request body too large');
    };
    const declared = Number(req.get('content-length') ?? NaN);
    if (declared > limit) return refuse();
    let seen = 0;
    let over = false;
    const push = req.push.bind(req);
    req.push = (chunk: unknown, encoding?: BufferEncoding) => {
      if (over) return true; // drop: past the limit nothing is kept
      if (chunk !== null && chunk !== undefined) {
        seen += (chunk as { length: number }).length;
        if (seen > limit) {
          over = true;
          refuse();
          return true;
        }
      }
      return push(chunk, encoding);
    };
    next();
  };
}
