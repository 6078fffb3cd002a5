import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createReadableStreamFromReadable } from '@react-router/node';
import { isbot } from 'isbot';
import { renderToPipeableStream, type RenderToPipeableStreamOptions } from 'react-dom/server';
import { ServerRouter, type EntryContext, type HandleErrorFunction } from 'react-router';
import type { PortalContext } from './context';
import { ErrorIdContext } from './lib/error-id';

// React Router's default Node entry, plus the per-request CSP nonce on every script it emits.
export const streamTimeout = 5_000;

/**
 * A fault in a loader or action (input is refused before it gets here): logged once with an id
 * the error page shows, so support finds the log line a user quotes. Aborted requests are not
 * faults.
 */
export const handleError: HandleErrorFunction = (error, { request, context }) => {
  if (request.signal.aborted) return;
  const ctx = context as PortalContext;
  ctx.errorId ??= randomBytes(6).toString('hex');
  ctx.logFault(ctx.errorId, error, new URL(request.url).pathname);
};

export default function handleRequest(
  request: Request,
  status: number,
  headers: Headers,
  routerContext: EntryContext,
  loadContext: PortalContext,
) {
  if (request.method.toUpperCase() === 'HEAD') return new Response(null, { status, headers });
  const { nonce } = loadContext;
  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false;
    const ua = request.headers.get('user-agent');
    const ready: keyof RenderToPipeableStreamOptions =
      (ua && isbot(ua)) || routerContext.isSpaMode ? 'onAllReady' : 'onShellReady';
    let timeout: ReturnType<typeof setTimeout> | undefined = setTimeout(
      () => abort(),
      streamTimeout + 1000,
    );
    const { pipe, abort } = renderToPipeableStream(
      <ErrorIdContext.Provider value={loadContext.errorId}>
        <ServerRouter context={routerContext} url={request.url} nonce={nonce} />
      </ErrorIdContext.Provider>,
      {
        nonce,
        [ready]() {
          shellRendered = true;
          const body = new PassThrough({
            final(cb) {
              clearTimeout(timeout);
              timeout = undefined;
              cb();
            },
          });
          headers.set('Content-Type', 'text/html; charset=utf-8');
          pipe(body);
          resolve(new Response(createReadableStreamFromReadable(body), { headers, status }));
        },
        onShellError: reject,
        onError(error: unknown) {
          status = 500;
          if (shellRendered) console.error(error);
        },
      },
    );
  });
}
