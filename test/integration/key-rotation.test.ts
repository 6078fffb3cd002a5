import { randomUUID } from 'node:crypto';
import type { KeyRotationInput } from '../../activities/key-rotation';
import { withTenant } from '../../lib/db/tenant-scope';
import { issueGrant, openGrant } from '../../lib/vault/grants';
import { addMember } from '../../lib/vault/members';
import {
  beginRotation,
  finishRotation,
  resealEpochBatch,
  rotationStatus,
} from '../../lib/vault/rotation';
import { currentEpochPublicKey, unlock, unlockEpoch } from '../../lib/vault';
import type { KeyRotationProgress } from '../../workflows/rotate-keys';
import {
  archiveTenant,
  deliver,
  openArchiveContext,
  PASSWORD,
  readArchived,
  sealedMessages,
} from '../helpers/archive';
import { FAST_ARGON2 } from '../helpers/ledger';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 9 §3: the rotateKeys workflow re-seals every live epoch key in batches with visible
 * progress, removes a member, ends every session and destroys its grant; and a rotation stopped
 * between batches resumes, while sessions of the old key keep working until the finish.
 */

const cfg = stackConfig();

describe('key rotation', () => {
  let ctx: Awaited<ReturnType<typeof openArchiveContext>>;
  beforeAll(async () => {
    ctx = await openArchiveContext(cfg);
  });
  afterAll(() => ctx.close());

  /** A tenant with a member, archived mail and `months` epochs (one per past month). */
  async function tenantWithEpochs(name: string, address: string, months: number) {
    const t = await archiveTenant(ctx, name, address);
    const admin = await unlock(ctx.db, {
      tenantId: t.tenantId,
      email: t.email,
      password: PASSWORD,
      argon2: FAST_ARGON2,
    });
    const memberId = await addMember(
      ctx.db,
      admin,
      { email: `mitglied@${address.split('@')[1]}`, password: PASSWORD, role: 'member' },
      FAST_ARGON2,
    );
    for (let i = 1; i <= months; i++)
      await currentEpochPublicKey(ctx.db, {
        tenantId: t.tenantId,
        retentionClass: 'default',
        now: new Date(Date.UTC(2026, 10 - i, 15)),
      });
    await deliver(cfg.LMTP_PORT, address, 2, 'Rotation');
    const mails = await sealedMessages(ctx, t, 2);
    return { t, admin, memberId, mails };
  }

  it('rotates through the workflow: progress, member removed, sessions ended, grant destroyed', async () => {
    const { t, admin, memberId, mails } = await tenantWithEpochs(
      'Rotation GmbH',
      'archiv@rotation.example',
      120,
    );
    const grant = await issueGrant(ctx.db, admin, { purpose: 'key-rotation', ttlMs: 600_000 });
    const input: KeyRotationInput = {
      grant: { tenantId: t.tenantId, grantId: grant.grantId, grantKey: grant.grantKey },
      rotationId: randomUUID(),
      requestedBy: t.adminUserId,
      trigger: 'member-removal',
      removeUserIds: [memberId],
    };
    const handle = await ctx.temporal.workflow.start('rotateKeys', {
      workflowId: `rotate-keys-test-${t.tenantId}`,
      taskQueue: cfg.TEMPORAL_TASK_QUEUE,
      args: [input],
    });
    const result = (await handle.result()) as KeyRotationProgress;
    expect(result).toEqual({ phase: 'done', epochsDone: 121, epochsTotal: 121 });
    expect(await handle.query('progress')).toEqual(result);

    const status = await rotationStatus(ctx.db, t.tenantId, input.rotationId);
    expect(status).toMatchObject({ status: 'done', fromVersion: 1, toVersion: 2, epochsDone: 121 });
    const epochs = await withTenant(ctx.db, t.tenantId, (tx) =>
      tx.selectFrom('epochs').select(['tenant_key_version', 'next_key_version']).execute(),
    );
    expect(epochs.every((e) => e.tenant_key_version === 2 && e.next_key_version === null)).toBe(
      true,
    );
    // The admin (signed in anew) reads; the removed member cannot unlock; the old key opens nothing.
    expect((await readArchived(ctx, t, mails[0]!.row.id)).plaintext).toEqual(mails[0]!.plaintext);
    await expect(
      unlock(ctx.db, {
        tenantId: t.tenantId,
        email: `mitglied@rotation.example`,
        password: PASSWORD,
        argon2: FAST_ARGON2,
      }),
    ).rejects.toThrow();
    await expect(unlockEpoch(ctx.db, admin, mails[0]!.row.epoch_id)).rejects.toThrow(/rotated/);
    await expect(openGrant(ctx.db, { ...input.grant, purpose: 'key-rotation' })).rejects.toThrow();
    const audit = await withTenant(ctx.db, t.tenantId, (tx) =>
      tx.selectFrom('audit_events').select(['action', 'target_id']).execute(),
    );
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['key.rotated', 'user.removed']),
    );
    expect(audit.find((a) => a.action === 'user.removed')?.target_id).toBe(memberId);
  }, 120_000);

  it('resumes between batches; old sessions keep working until the finish', async () => {
    const { t, admin, mails } = await tenantWithEpochs(
      'Wiederanlauf AG',
      'archiv@wiederanlauf.example',
      70,
    );
    const r = await beginRotation(ctx.db, admin, {
      rotationId: randomUUID(),
      requestedBy: t.adminUserId,
      trigger: 'manual',
    });
    expect(r.epochsTotal).toBe(71);
    // A retried begin finds the same rotation; a second rotation is refused while it runs.
    expect(
      (
        await beginRotation(ctx.db, admin, {
          rotationId: r.id,
          requestedBy: t.adminUserId,
          trigger: 'manual',
        })
      ).id,
    ).toBe(r.id);
    await expect(
      beginRotation(ctx.db, admin, { requestedBy: t.adminUserId, trigger: 'manual' }),
    ).rejects.toThrow(/already running/);

    expect(await resealEpochBatch(ctx.db, admin, r.id, 50)).toEqual({ done: 50, remaining: 21 });
    // "Crash" here: the old key still opens every epoch, re-sealed or not.
    expect((await readArchived(ctx, t, mails[1]!.row.id)).plaintext).toEqual(mails[1]!.plaintext);
    expect((await rotationStatus(ctx.db, t.tenantId))?.epochsDone).toBe(50);

    // An epoch created meanwhile (a new month) is caught by the finish.
    await currentEpochPublicKey(ctx.db, {
      tenantId: t.tenantId,
      retentionClass: 'default',
      now: new Date(Date.UTC(2027, 5, 1)),
    });
    expect(await resealEpochBatch(ctx.db, admin, r.id, 50)).toEqual({ done: 72, remaining: 0 });
    const done = await finishRotation(ctx.db, admin, r.id);
    expect(done).toMatchObject({ status: 'done', toVersion: 2 });
    expect(await finishRotation(ctx.db, admin, r.id)).toMatchObject({ status: 'done' });
    expect((await readArchived(ctx, t, mails[1]!.row.id)).plaintext).toEqual(mails[1]!.plaintext);
  }, 120_000);
});
