import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { SessionInfo } from '../lib/auth/sessions';
import type { Db } from '../lib/db';
import { withTenant } from '../lib/db/tenant-scope';
import { addRule, listClasses, listRules, removeRule, saveClass } from '../lib/retention/classes';
import { checkHoldInput, listHolds, releaseHold, setHold } from '../lib/retention/holds';
import { startTenantWorkflow } from '../lib/temporal/tenant-workflow';
import { requireManager } from '../lib/auth/roles';

/**
 * The portal's retention page: classes, rules, legal holds, past deletions, and a run now. Owners
 * and admins only (the route's guard, and checked again here: holds are a legal instrument).
 */
export interface RetentionDeps {
  db: Db;
  /** The archive's search over the admin's unlocked index, to resolve a hold's query. */
  holdMatches: (session: SessionInfo, cookie: string, q: string) => Promise<string[]>;
  temporal: () => Promise<{ client: Client; taskQueue: string }>;
}

const actorOf = (session: SessionInfo, ip: string) => ({
  tenantId: session.tenantId,
  userId: session.userId,
  ip,
});

export function createRetention(deps: RetentionDeps) {
  const { db } = deps;
  return {
    async overview(session: SessionInfo) {
      requireManager(session, 'retention and legal holds');
      const { classes, rules, shreds } = await withTenant(db, session.tenantId, async (tx) => ({
        classes: await listClasses(tx),
        rules: await listRules(tx),
        shreds: await tx
          .selectFrom('shreds as s')
          .innerJoin('epochs as e', 'e.id', 's.epoch_id')
          .select([
            's.id',
            's.kind',
            's.message_count',
            's.ledger_index',
            's.created_at',
            'e.retention_class',
            'e.month',
          ])
          .orderBy('s.created_at', 'desc')
          .limit(50)
          .execute(),
      }));
      return { classes, rules, holds: await listHolds(db, session.tenantId), shreds };
    },
    saveClass(session: SessionInfo, ip: string, input: Parameters<typeof saveClass>[2]) {
      requireManager(session, 'retention and legal holds');
      return saveClass(db, actorOf(session, ip), input);
    },
    addRule(session: SessionInfo, ip: string, input: Parameters<typeof addRule>[2]) {
      requireManager(session, 'retention and legal holds');
      return addRule(db, actorOf(session, ip), input);
    },
    removeRule(session: SessionInfo, ip: string, ruleId: string) {
      requireManager(session, 'retention and legal holds');
      return removeRule(db, actorOf(session, ip), ruleId);
    },
    async setHold(
      session: SessionInfo,
      cookie: string,
      ip: string,
      input: { query: string; reason: string },
    ) {
      requireManager(session, 'retention and legal holds');
      checkHoldInput(input);
      const ids = await deps.holdMatches(session, cookie, input.query);
      return setHold(db, actorOf(session, ip), input, ids);
    },
    releaseHold(session: SessionInfo, ip: string, holdId: string, reason: string) {
      requireManager(session, 'retention and legal holds');
      return releaseHold(db, actorOf(session, ip), holdId, reason);
    },
    /** Starts a retention run for the tenant now (the daily schedule runs all tenants). */
    async startRun(session: SessionInfo): Promise<string> {
      requireManager(session, 'retention and legal holds');
      const t = await deps.temporal();
      const workflowId = `retention-${session.tenantId}-${randomUUID()}`;
      await startTenantWorkflow(t, 'retentionRun', {
        tenantId: session.tenantId,
        workflowId,
        args: [{ tenantId: session.tenantId, trigger: 'manual' }],
      });
      return workflowId;
    },
  };
}

export type Retention = ReturnType<typeof createRetention>;
