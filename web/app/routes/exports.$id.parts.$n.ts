import type { LoaderArgs } from '../context';
import { download, notFound } from '../lib/download.server';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/** A finished export's ZIP part, streamed from object storage (encrypted ZIP; audited). */
export async function loader({ request, context, params }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/exports'));
  const n = Number(params.n);
  if (!Number.isSafeInteger(n) || n < 0) return notFound();
  const r = await context.services.exports.download(session, params.id!, n, context.ip);
  if (!r) return notFound();
  return download(r.stream, {
    filename: r.filename,
    contentType: 'application/zip',
    length: r.size,
  });
}
