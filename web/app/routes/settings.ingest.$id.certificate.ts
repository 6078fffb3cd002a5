import type { LoaderArgs } from '../context';
import { download, notFound } from '../lib/download.server';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/** A certificate credential's certificate (public), to install it on the mail server again. */
export async function loader({ request, context, params }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/ingest'));
  const pem = await context.services.ingestCredentials.certificate(session, params.id!);
  if (!pem) return notFound();
  return download(Buffer.from(pem), {
    filename: `mailrepo-ingest-${params.id}.pem`,
    contentType: 'application/octet-stream',
  });
}
