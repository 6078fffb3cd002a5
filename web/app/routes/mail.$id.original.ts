import type { LoaderArgs } from '../context';
import { download, notFound } from '../lib/download.server';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/** The original mail, byte for byte as received, decrypted as a stream (audited). */
export async function loader({ request, context, params }: LoaderArgs) {
  const { session, cookie } = await requireRole(request, context, rolesFor('/mail'));
  const r = await context.services.archive.original(session, cookie, params.id!, context.ip);
  if (!r) return notFound();
  const day = new Date(r.mail.receivedAt).toISOString().slice(0, 10);
  return download(r.stream, {
    filename: `mail-${day}-${r.mail.id.slice(0, 8)}.eml`,
    contentType: 'message/rfc822',
    length: r.mail.size,
  });
}
