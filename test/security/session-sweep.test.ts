import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { passwordStep } from '../../lib/auth/login';
import { createDb, type Db } from '../../lib/db';
import { connectTemporal } from '../../lib/temporal/client';
import { createTenant } from '../../lib/vault';
import { FAST_ARGON2 } from '../helpers/ledger';
import { stackConfig } from '../helpers/stack-env';
import { adminDb } from '../helpers/admin-db';

/**
 * Issue 17 §5: keys die with their session. A session past its idle limit kept its sealed keys
 * until its cookie came back (never, for a stolen database copy taken meanwhile). The scheduled
 * `sessionSweep` workflow, run here through the stack's own worker, ends it and clears them.
 */
const cfg = stackConfig();
// Inspects and tampers with what is stored as the database administrator; the code under test
// runs as the service role.
const dba = adminDb(cfg);
afterAll(() => dba.destroy());
let db: Db;
beforeAll(() => {
  db = createDb(cfg.DATABASE_URL, 2);
});
afterAll(() => db.destroy());

it('after the idle limit the session row holds no key material, though its cookie never returns', async () => {
  const email = `schlaefer-${randomUUID().slice(0, 8)}@sweep.example`;
  const { tenantId } = await createTenant(db, {
    name: 'Sweep GmbH',
    admin: { email, password: 'ein langes Passwort' },
    argon2: FAST_ARGON2,
  });
  const login = await passwordStep(db, {
    email,
    password: 'ein langes Passwort',
    ip: '192.0.2.9',
    argon2: FAST_ARGON2,
  });
  expect(login.kind).toBe('ok');
  const rows = () =>
    sql<{ ended_at: Date | null; end_reason: string | null; keys: number }>`
      SELECT ended_at, end_reason, length(sealed_keys) AS keys FROM sessions
       WHERE tenant_id = ${tenantId}`.execute(dba);
  expect((await rows()).rows).toEqual([
    { ended_at: null, end_reason: null, keys: expect.any(Number) },
  ]);
  expect((await rows()).rows[0]!.keys).toBeGreaterThan(0);
  // Idle for longer than the tenant's limit (the default is 30 minutes).
  await sql`UPDATE sessions SET last_seen_at = now() - interval '8 hours'
             WHERE tenant_id = ${tenantId}`.execute(dba);

  const temporal = await connectTemporal(cfg);
  try {
    const ended = await temporal.workflow.execute('sessionSweep', {
      taskQueue: cfg.TEMPORAL_TASK_QUEUE,
      workflowId: `session-sweep-test-${randomUUID()}`,
    });
    expect(ended).toBeGreaterThanOrEqual(1);
  } finally {
    await temporal.connection.close();
  }
  const after = (await rows()).rows[0]!;
  expect(after.ended_at).not.toBeNull();
  expect(after.end_reason).toBe('idle-timeout');
  expect(after.keys).toBe(0);
  const audit = await sql`SELECT 1 FROM audit_events
                           WHERE tenant_id = ${tenantId} AND action = 'session.expired'`.execute(
    dba,
  );
  expect(audit.rows).toHaveLength(1);
});

it('no ended session in the database keeps sealed keys, whatever ended it', async () => {
  const kept = await sql<{ n: string }>`
    SELECT count(*) AS n FROM sessions WHERE ended_at IS NOT NULL AND length(sealed_keys) > 0`.execute(
    dba,
  );
  expect(Number(kept.rows[0]!.n)).toBe(0);
});
