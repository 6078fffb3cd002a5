import type { LoaderArgs } from '../context';
import { download, notFound } from '../lib/download.server';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/** An inline image the mail's HTML refers to as `cid:` — served only as a raster image. */
export async function loader({ request, context, params }: LoaderArgs) {
  const { session, cookie } = await requireRole(request, context, rolesFor('/mail'));
  const r = await context.services.archive.attachment(
    session,
    cookie,
    params.id!,
    { cid: params.cid! },
    context.ip,
  );
  if (!r) return notFound();
  if (!/^image\/(png|jpeg|gif|webp)$/i.test(r.info.contentType)) {
    r.stream.destroy();
    return notFound();
  }
  return download(r.stream, {
    filename: r.info.filename,
    contentType: r.info.contentType,
    inline: true,
  });
}
