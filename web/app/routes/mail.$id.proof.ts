import type { LoaderArgs } from '../context';
import { download, notFound } from '../lib/download.server';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/**
 * The mail's proof bundle (ZIP: inclusion proofs, checkpoints, RFC 3161 token, certificates,
 * VERIFY.md and verify.py) — anyone can check it against the .eml without trusting us.
 */
export async function loader({ request, context, params }: LoaderArgs) {
  const { session, cookie } = await requireRole(request, context, rolesFor('/mail'));
  const r = await context.services.archive.proof(session, cookie, params.id!, context.ip);
  if (!r) return notFound();
  if (r.kind === 'pending')
    return new Response('The proof is available once the timestamp is in.', {
      status: 409,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '60' },
    });
  return download(r.zip, {
    filename: `beweis-${params.id!.slice(0, 8)}.zip`,
    contentType: 'application/zip',
  });
}
