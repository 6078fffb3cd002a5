import contentDisposition from 'content-disposition';
import { Readable } from 'node:stream';

/**
 * A decrypted download as a streamed response: attachment disposition with a safe filename (no
 * path, quoted, RFC 6266 `filename*` for non-Latin names), never cached (helmet adds nosniff and CORP same-origin to every response), and only
 * the content types a browser will not run as a page of ours — anything else goes out as
 * application/octet-stream.
 */

const SAFE_TYPES =
  /^(?:application\/(?:pdf|zip|msword|vnd\.[\w.+-]+|octet-stream)|image\/(?:png|jpeg|gif|webp)|text\/(?:plain|csv|calendar)|message\/rfc822|audio\/[\w.+-]+|video\/[\w.+-]+)$/i;

export function download(
  body: Readable | Uint8Array,
  input: { filename: string; contentType: string; inline?: boolean; length?: number },
): Response {
  const type = SAFE_TYPES.test(input.contentType) ? input.contentType : 'application/octet-stream';
  const headers = new Headers({
    'Content-Type': type,
    // An ASCII fallback name, and the exact name as RFC 5987 `filename*` whenever they differ.
    'Content-Disposition': contentDisposition(input.filename, {
      type: input.inline ? 'inline' : 'attachment',
      fallback: input.filename.replace(/[^\x20-\x7e]/g, '_'),
    }),
    'Cache-Control': 'no-store',
  });
  if (input.length !== undefined) headers.set('Content-Length', String(input.length));
  const stream =
    body instanceof Readable
      ? (Readable.toWeb(body) as unknown as ReadableStream<Uint8Array>)
      : new Blob([new Uint8Array(body)]).stream();
  return new Response(stream, { headers });
}

export const notFound = () => new Response('Not found', { status: 404 });
