import type { LoaderArgs } from '../context';
import { download, notFound } from '../lib/download.server';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/** One attachment, decrypted and decoded as a stream (audited). */
export async function loader({ request, context, params }: LoaderArgs) {
  const { session, cookie } = await requireRole(request, context, rolesFor('/mail'));
  const index = Number(params.index);
  if (!Number.isSafeInteger(index) || index < 0) return notFound();
  const r = await context.services.archive.attachment(
    session,
    cookie,
    params.id!,
    { index },
    context.ip,
  );
  if (!r) return notFound();
  return download(r.stream, { filename: r.info.filename, contentType: r.info.contentType });
}
