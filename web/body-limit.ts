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

export function bodyLimit(limits: BodyLimits) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const limit = limitFor(req.path, limits);
    const refuse = () => {
      if (res.headersSent) return;
      res.status(413).set('Connection', 'close').type('text').send('request body too large');
      // The client may still be sending; close once the answer is out.
      res.on('finish', () => req.socket.destroySoon?.() ?? req.socket.end());
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
