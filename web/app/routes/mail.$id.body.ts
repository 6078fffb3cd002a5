import type { LoaderArgs } from '../context';
import { notFound } from '../lib/download.server';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/**
 * The mail's HTML as its own document for the sandboxed frame on the mail page: sanitised on the
 * server, under a CSP that allows no script, no form, no remote anything — remote images only
 * after the user chose to load them for this mail (`?images=1`).
 */
export async function loader({ request, context, params }: LoaderArgs) {
  const { session, cookie } = await requireRole(request, context, rolesFor('/mail'));
  const url = new URL(request.url);
  const allowRemoteImages = url.searchParams.get('images') === '1';
  const id = params.id!;
  const r = await context.services.archive.body(session, cookie, id, {
    ip: context.ip,
    allowRemoteImages,
    cidUrl: (cid) => `/mail/${id}/cid/${encodeURIComponent(cid)}`,
  });
  if (!r) return notFound();
  const doc = `<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><style>body{font-family:system-ui,sans-serif;margin:0.75rem;overflow-wrap:anywhere}img[data-blocked]{display:inline-block;min-width:1rem;min-height:1rem;background:#eee}</style></head><body>${r.html}</body></html>`;
  return new Response(doc, {
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': context.services.mailBodyCsp(url.origin, allowRemoteImages),
      'Cache-Control': 'no-store',
    },
  });
}
