import { sql, type Transaction } from 'kysely';
import type { Database, Db } from './index';

export type TenantTx = Transaction<Database>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Runs `fn` in one transaction scoped to `tenantId`: as role `mailrepo_app` with `app.tenant_id`
 * set, so PostgreSQL row-level security confines every statement to that tenant, in addition to
 * the application's own WHERE clauses. Audit events written inside `fn` commit or roll back with
 * the action they record.
 */
export async function withTenant<T>(
  db: Db,
  tenantId: string,
  fn: (tx: TenantTx) => Promise<T>,
  opts: { isolation?: 'repeatable read' } = {},
): Promise<T> {
  if (!UUID.test(tenantId)) throw new Error('tenant id must be a UUID');
  const begin = db.transaction();
  // `repeatable read`: one snapshot for every statement (a verification reading several tables).
  return (opts.isolation ? begin.setIsolationLevel(opts.isolation) : begin).execute(async (tx) => {
    await sql`SET LOCAL ROLE mailrepo_app`.execute(tx);
    await sql`SELECT set_config('app.tenant_id', ${tenantId}, true)`.execute(tx);
    return fn(tx);
  });
}
