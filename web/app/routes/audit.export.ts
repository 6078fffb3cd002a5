import type { LoaderArgs } from '../context';
import { auditQuery } from '../lib/audit-filter.server';
import { download } from '../lib/download.server';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/**
 * The auditor export of the audit page's filter (issue 25 §1): the whole time range as CSV and
 * JSON with the proofs of its anchored chain heads and verify-audit.py; the other filters mark
 * their events. Audited as `audit.exported` with who, when and from where.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/audit'));
  const q = auditQuery(new URL(request.url));
  const text = (status: number, body: string) =>
    new Response(body, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  if (q.problem) return text(400, `Invalid filter: ${q.problem}`);
  const r = await context.services.auditLog.export(session, q.filter, context.ip);
  if (r.kind === 'too-many')
    return text(
      413,
      `The time range holds ${r.events} events; narrow it or use mailrepo audit export.`,
    );
  const day = new Date().toISOString().slice(0, 10);
  return download(r.zip, { filename: `protokoll-${day}.zip`, contentType: 'application/zip' });
}
