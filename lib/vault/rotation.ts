import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { zeroize } from '../crypto/bytes';
import { openSealed, sealTo } from '../crypto/sealed-box';
import { generateKeyPair } from '../crypto/x25519';
import type { Db } from '../db';
import { resealAuditKey } from '../audit/audit-key';
import { recordAudit } from '../audit/record';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { bind } from '../crypto/bindings';
import { openEpochKey, sealEpochKey } from './epochs';
import { requireAdmin, VaultError, type TenantKeys, type UnlockedSession } from './session';
import type { RotationTrigger } from '../../contracts/key-rotation';

/**
 * Tenant key rotation (issue 9 §3), in three resumable steps so that a tenant with thousands of
 * epochs rotates in batches with visible progress, and a crash anywhere resumes:
 *
 * 1. `beginRotation`: a new tenant key pair; the private half is sealed at once to every member who
 *    keeps access (grants of the next version) and forgotten; its public half is recorded.
 * 2. `resealEpochBatch` (repeated): each live epoch's private key is opened with the current
 *    tenant key (from the requesting admin's decryption grant) and sealed to the next one *beside*
 *    the current sealing, so every session keeps working meanwhile.
 * 3. `finishRotation`: one transaction swaps all epochs to the next sealing, re-seals the audit
 *    key, disables removed members, deletes older grants, makes the next key current and ends every
 *    session (they hold the old key; everyone signs in again). Audited (`key.rotated`,
 *    `user.removed`).
 *
 * What it cannot undo: a removed member who copied epoch private keys while still a member can
 * still read those epochs' mail, since epoch keys themselves are not changed (docs/crypto.md).
 */

export interface RotationStatus {
  id: string;
  fromVersion: number;
  toVersion: number;
  status: 'running' | 'done' | 'failed';
  epochsTotal: number;
  epochsDone: number;
  trigger: RotationTrigger;
  removeUserIds: string[];
  createdAt: Date;
  finishedAt: Date | null;
  error: string | null;
}

const liveEpochs = (tx: TenantTx) =>
  tx
    .selectFrom('epochs')
    .where('shredded_at', 'is', null)
    .where('sealed_private_key', 'is not', null);

export async function beginRotation(
  db: Db,
  keys: TenantKeys,
  input: {
    rotationId?: string;
    requestedBy: string;
    trigger: RotationStatus['trigger'];
    removeUserIds?: string[];
  },
): Promise<RotationStatus> {
  const { tenantId } = keys;
  const rotationId = input.rotationId ?? randomUUID();
  const remove = [...new Set(input.removeUserIds ?? [])];
  if (remove.includes(input.requestedBy))
    throw new VaultError('an administrator cannot remove themselves while rotating');
  const existing = await rotationStatus(db, tenantId, rotationId);
  if (existing) return existing; // a retried begin
  const next = generateKeyPair();
  try {
    await withTenant(db, tenantId, async (tx) => {
      const tenant = await tx
        .selectFrom('tenants')
        .select('key_version')
        .where('id', '=', tenantId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (tenant.key_version !== keys.tenantKeyVersion)
        throw new VaultError('the tenant key was rotated meanwhile; unlock again');
      const running = await tx
        .selectFrom('key_rotations')
        .select('id')
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (running) throw new VaultError('a key rotation is already running');
      const v = tenant.key_version + 1;
      // Left over from a rotation that failed before its finish: those sealings are void.
      await tx
        .updateTable('epochs')
        .set({ next_sealed_private_key: null, next_key_version: null })
        .where('next_key_version', 'is not', null)
        .execute();
      await tx.deleteFrom('tenant_key_grants').where('key_version', '>=', v).execute();
      const members = await tx
        .selectFrom('users')
        .select(['id', 'public_key', 'role'])
        .where('disabled_at', 'is', null)
        .execute();
      // Checked again where the keys change: an admin never removes an owner (docs/permissions.md).
      const requester = members.find((m) => m.id === input.requestedBy);
      if (
        requester?.role !== 'owner' &&
        members.some((m) => m.role === 'owner' && remove.includes(m.id))
      )
        throw new VaultError('only owners remove owners');
      for (const m of members.filter((u) => !remove.includes(u.id)))
        await tx
          .insertInto('tenant_key_grants')
          .values({
            tenant_id: tenantId,
            user_id: m.id,
            key_version: v,
            sealed_private_key: sealTo(
              m.public_key,
              bind.tenantGrant(tenantId, v, m.id),
              next.privateKey,
            ),
          })
          .execute();
      const total = await liveEpochs(tx)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('key_rotations')
        .values({
          id: rotationId,
          tenant_id: tenantId,
          from_version: tenant.key_version,
          to_version: v,
          next_public_key: next.publicKey,
          requested_by: input.requestedBy,
          trigger: input.trigger,
          remove_user_ids: remove,
          epochs_total: Number(total.n),
          error: null,
          finished_at: null,
        })
        .execute();
    });
  } finally {
    zeroize(next.privateKey);
  }
  return (await rotationStatus(db, tenantId, rotationId))!;
}

/** Seals up to `limit` more epochs to the next tenant key; returns how many are left. */
export async function resealEpochBatch(
  db: Db,
  keys: TenantKeys,
  rotationId: string,
  limit = 50,
): Promise<{ done: number; remaining: number }> {
  const { tenantId } = keys;
  return withTenant(db, tenantId, async (tx) => {
    const rotation = await tx
      .selectFrom('key_rotations')
      .selectAll()
      .where('id', '=', rotationId)
      .executeTakeFirst();
    if (!rotation || rotation.status !== 'running')
      throw new VaultError('no such running key rotation');
    const batch = await pendingEpochs(tx, rotation.to_version).limit(limit).execute();
    for (const e of batch) await resealOne(db, tx, keys, rotation, e);
    const remaining = await pendingEpochs(tx, rotation.to_version)
      .clearSelect()
      .clearOrderBy()
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const done = await liveEpochs(tx)
      .where('next_key_version', '=', rotation.to_version)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    await tx
      .updateTable('key_rotations')
      .set({
        epochs_done: Number(done.n),
        epochs_total: Number(done.n) + Number(remaining.n),
      })
      .where('id', '=', rotationId)
      .execute();
    return { done: Number(done.n), remaining: Number(remaining.n) };
  });
}

const pendingEpochs = (tx: TenantTx, toVersion: number) =>
  liveEpochs(tx)
    .select(['id', 'sealed_private_key', 'tenant_key_version', 'shred_layer'])
    .where((eb) =>
      eb.or([eb('next_key_version', 'is', null), eb('next_key_version', '!=', toVersion)]),
    )
    .orderBy('id');

async function resealOne(
  db: Db,
  tx: TenantTx,
  keys: TenantKeys,
  rotation: { to_version: number; next_public_key: Buffer },
  e: {
    id: string;
    sealed_private_key: Buffer | null;
    tenant_key_version: number;
    shred_layer: boolean;
  },
): Promise<void> {
  const tenantId = keys.tenantId;
  const epochKey = await openEpochKey(
    db,
    {
      tenantId,
      epochId: e.id,
      tenantKeyVersion: e.tenant_key_version,
      sealed: e.sealed_private_key!,
      shredLayer: e.shred_layer,
    },
    keys.tenantPrivateKey,
  );
  try {
    const sealed = await sealEpochKey(
      db,
      {
        tenantId,
        epochId: e.id,
        tenantKeyVersion: rotation.to_version,
        tenantPublicKey: rotation.next_public_key,
      },
      epochKey,
    );
    await tx
      .updateTable('epochs')
      .set({ next_sealed_private_key: sealed, next_key_version: rotation.to_version })
      .where('id', '=', e.id)
      .execute();
  } finally {
    zeroize(epochKey);
  }
}

/**
 * Makes the next key current (idempotent: a finished rotation is returned as it is). Epochs
 * created since the last batch are sealed here, under the tenant row's lock that epoch creation
 * also takes, so none is missed.
 */
export async function finishRotation(
  db: Db,
  keys: TenantKeys,
  rotationId: string,
): Promise<RotationStatus> {
  const { tenantId } = keys;
  await withTenant(db, tenantId, async (tx) => {
    const rotation = await tx
      .selectFrom('key_rotations')
      .selectAll()
      .where('id', '=', rotationId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (rotation.status === 'done') return;
    const tenant = await tx
      .selectFrom('tenants')
      .select('key_version')
      .where('id', '=', tenantId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (
      tenant.key_version !== rotation.from_version ||
      keys.tenantKeyVersion !== tenant.key_version
    )
      throw new VaultError('the tenant key changed during the rotation');
    const v = rotation.to_version;
    for (const e of await pendingEpochs(tx, v).execute())
      await resealOne(db, tx, keys, rotation, e);
    const swapped = await sql<{ n: number }>`
      UPDATE epochs SET sealed_private_key = next_sealed_private_key, tenant_key_version = ${v},
        next_sealed_private_key = NULL, next_key_version = NULL
      WHERE tenant_id = ${tenantId} AND next_key_version = ${v} AND shredded_at IS NULL`.execute(
      tx,
    );
    await resealAuditKey(tx, tenantId, keys.tenantPrivateKey, rotation.next_public_key, v);
    const remove = rotation.remove_user_ids;
    if (remove.length)
      await tx
        .updateTable('users')
        .set({ disabled_at: new Date() })
        .where('id', 'in', remove)
        .where('disabled_at', 'is', null)
        .execute();
    // A member who joined after the begin has no grant of the new version: they join again.
    await tx.deleteFrom('tenant_key_grants').where('key_version', '<', v).execute();
    const members = await tx
      .selectFrom('tenant_key_grants')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('key_version', '=', v)
      .executeTakeFirstOrThrow();
    const at = new Date();
    await tx
      .updateTable('tenants')
      .set({ public_key: rotation.next_public_key, key_version: v, key_rotated_at: at })
      .where('id', '=', tenantId)
      .execute();
    // Every session holds the old tenant key, which opens nothing any more: all sign in again.
    const ended = await tx
      .updateTable('sessions')
      .set({ ended_at: at, end_reason: 'key-rotated', sealed_keys: Buffer.alloc(0) })
      .where('tenant_id', '=', tenantId)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    await tx
      .updateTable('key_rotations')
      .set({ status: 'done', finished_at: at })
      .where('id', '=', rotationId)
      .execute();
    const actor = { type: 'user' as const, id: rotation.requested_by };
    await recordAudit(tx, tenantId, {
      action: 'key.rotated',
      actor,
      target: { type: 'tenant-key', id: `v${v}` },
      details: {
        from: rotation.from_version,
        to: v,
        trigger: rotation.trigger,
        epochsResealed: Number(swapped.numAffectedRows ?? 0),
        members: Number(members.n),
        sessionsEnded: Number(ended.numUpdatedRows),
        rotationId,
      },
    });
    for (const userId of remove)
      await recordAudit(tx, tenantId, {
        action: 'user.removed',
        actor,
        target: { type: 'user', id: userId },
        details: { atKeyVersion: v },
      });
  });
  return (await rotationStatus(db, tenantId, rotationId))!;
}

/** Marks a rotation failed (its grant expired, say); a new one can start afterwards. */
export async function failRotation(
  db: Db,
  tenantId: string,
  rotationId: string,
  error: string,
): Promise<void> {
  await withTenant(db, tenantId, (tx) =>
    tx
      .updateTable('key_rotations')
      .set({ status: 'failed', error: error.slice(0, 500), finished_at: new Date() })
      .where('id', '=', rotationId)
      .where('status', '=', 'running')
      .execute(),
  );
}

export async function rotationStatus(
  db: Db,
  tenantId: string,
  rotationId?: string,
): Promise<RotationStatus | undefined> {
  const r = await withTenant(db, tenantId, (tx) => {
    let q = tx.selectFrom('key_rotations').selectAll();
    q = rotationId ? q.where('id', '=', rotationId) : q.orderBy('created_at', 'desc').limit(1);
    return q.executeTakeFirst();
  });
  return (
    r && {
      id: r.id,
      fromVersion: r.from_version,
      toVersion: r.to_version,
      status: r.status,
      epochsTotal: r.epochs_total,
      epochsDone: r.epochs_done,
      trigger: r.trigger,
      removeUserIds: r.remove_user_ids,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
      error: r.error,
    }
  );
}

/**
 * The whole rotation in one call (tests, the CLI): begin, reseal everything, finish. Returns the
 * admin's session under the new key, opened from their new grant.
 */
export async function rotateTenantKey(
  db: Db,
  admin: UnlockedSession,
  opts: { removeUserIds?: string[] } = {},
): Promise<UnlockedSession> {
  requireAdmin(admin, admin.tenantId);
  const r = await beginRotation(db, admin, {
    requestedBy: admin.userId,
    trigger: opts.removeUserIds?.length ? 'member-removal' : 'manual',
    removeUserIds: opts.removeUserIds,
  });
  try {
    while ((await resealEpochBatch(db, admin, r.id)).remaining > 0);
    await finishRotation(db, admin, r.id);
  } catch (e) {
    await failRotation(db, admin.tenantId, r.id, (e as Error).message);
    throw e;
  }
  const grant = await withTenant(db, admin.tenantId, (tx) =>
    tx
      .selectFrom('tenant_key_grants')
      .select('sealed_private_key')
      .where('user_id', '=', admin.userId)
      .where('key_version', '=', r.toVersion)
      .executeTakeFirstOrThrow(),
  );
  const tenantPrivateKey = openSealed(
    admin.userPrivateKey,
    bind.tenantGrant(admin.tenantId, r.toVersion, admin.userId),
    grant.sealed_private_key,
  );
  zeroize(admin.tenantPrivateKey);
  return { ...admin, tenantPrivateKey, tenantKeyVersion: r.toVersion };
}
