import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ENCODING, parseCodecKeys } from '../../lib/temporal/codec';
import { checkPassword } from '../../lib/crypto/password';
import { decodeRecoveryKey, recoveryKeyPair } from '../../lib/crypto/recovery-key';
import { openSealed } from '../../lib/crypto/sealed-box';
import { withTenant } from '../../lib/db/tenant-scope';
import { defaultVaultUrl } from '../../lib/db/shred-keys';
import { bind } from '../../lib/crypto/bindings';
import { unlock } from '../../lib/vault';
import { unlockEpoch } from '../../lib/vault/epochs';
import { LmtpClient } from '../../infra/lmtp-client';
import { adminDatabaseUrl } from '../helpers/admin-db';
import { archived, archiveTenant, crlf, openArchiveContext, PASSWORD } from '../helpers/archive';
import { FAST_ARGON2 } from '../helpers/ledger';
import { foundIn } from '../helpers/needles';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 24 §1: what an operator holds — dumps of the archive and vault databases, every object
 * stored for the tenant (archive, staging, imports, exports) and the Temporal histories of the
 * tenant's workflows as the Temporal store keeps them (payloads as stored, not decoded) — shows no
 * mail, no password and no key, in any encoding a dump or an object might use. The mail takes the real path: LMTP, the
 * archiveMail workflow, the worker.
 */
const cfg = stackConfig();

/**
 * The histories of the tenant's workflows, serialised as the server stores them: read through
 * the raw service API, which bypasses the client's payload codec.
 */
async function workflowHistories(client: Client, namespace: string, tenantId: string) {
  const out: Buffer[] = [];
  for await (const wf of client.workflow.list({ query: `TenantId = "${tenantId}"` })) {
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await client.workflowService.getWorkflowExecutionHistory({
        namespace,
        execution: { workflowId: wf.workflowId, runId: wf.runId },
        nextPageToken,
      });
      out.push(Buffer.from(temporal.api.history.v1.History.encode(page.history ?? {}).finish()));
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
  }
  return out;
}

it('an operator with both database dumps and every object of the tenant sees no plaintext and no key', async () => {
  const ctx = await openArchiveContext(cfg);
  try {
    const marker = `Streng vertraulich ${randomUUID()}`;
    const subject = `Jahresabschluss ${randomUUID().slice(0, 8)}`;
    const address = `archiv@${randomUUID().slice(0, 8)}-blind.example`;
    const t = await archiveTenant(ctx, 'Blind GmbH', address);
    const mail = crlf(
      `From: Buchhaltung <buchhaltung@kunde.example>\nTo: ${address}\nSubject: ${subject}\n` +
        `Message-ID: <${randomUUID()}@kunde.example>\n\n${marker}\n`,
    );
    const lmtp = await LmtpClient.connect(cfg.LMTP_PORT);
    try {
      expect((await lmtp.send(mail, 'journal@mta.example', [address])).data[address]).toMatch(
        /^250/,
      );
    } finally {
      lmtp.close();
    }
    const { plaintext, row } = await archived(ctx, t, mail);
    expect(plaintext.equals(mail)).toBe(true);

    // What an operator has.
    const admin = adminDatabaseUrl(cfg);
    const dumps = [admin, defaultVaultUrl(admin)].map((url) =>
      execFileSync('pg_dump', [url], { maxBuffer: 512 * 1024 * 1024 }),
    );
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await ctx.s3.send(
        new ListObjectsV2Command({ Bucket: ctx.bucket, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!).filter((k) => k.includes(t.tenantId)));
      token = page.NextContinuationToken;
    } while (token);
    expect(keys.length).toBeGreaterThan(0);
    const objects = await Promise.all(
      keys.map(async (Key) =>
        Buffer.from(
          await (
            await ctx.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key }))
          ).Body!.transformToByteArray(),
        ),
      ),
    );
    const histories = await workflowHistories(ctx.temporal, cfg.TEMPORAL_NAMESPACE, t.tenantId);
    // The tenant's workflows were found: the archiveMail run at least, its search attribute in clear.
    expect(histories.length).toBeGreaterThan(0);
    expect(Buffer.concat(histories).includes(Buffer.from(t.tenantId))).toBe(true);
    // …with their payloads as stored: sealed by the payload codec.
    expect(Buffer.concat(histories).includes(Buffer.from(ENCODING))).toBe(true);
    const atRest = Buffer.concat([...dumps, ...objects, ...histories]);

    // The secrets, recovered in memory only: every key on the way from the password to the body.
    const session = await unlock(ctx.db, {
      tenantId: t.tenantId,
      email: t.email,
      password: PASSWORD,
      argon2: FAST_ARGON2,
    });
    const epoch = await unlockEpoch(ctx.db, session, row.epoch_id);
    const dek = openSealed(
      epoch.privateKey,
      bind.mailDek(t.tenantId, epoch.epochId, row.id),
      row.sealed_dek!,
    );
    const user = await withTenant(ctx.db, t.tenantId, (tx) =>
      tx.selectFrom('users').selectAll().where('email', '=', t.email).executeTakeFirstOrThrow(),
    );
    const passwordKeys = (await checkPassword(PASSWORD, {
      salt: user.password_salt,
      params: {
        memoryKiB: user.argon2_memory_kib,
        iterations: user.argon2_iterations,
        parallelism: user.argon2_parallelism,
      },
      verifier: user.password_verifier,
    }))!;
    const recoverySecret = decodeRecoveryKey(t.recoveryKey);
    const needles: [string, Buffer][] = [
      ['mail body', Buffer.from(marker)],
      ['subject', Buffer.from(subject)],
      ['password', Buffer.from(PASSWORD)],
      ['recovery key', Buffer.from(t.recoveryKey)],
      ['recovery secret', recoverySecret],
      ['recovery private key', Buffer.from(recoveryKeyPair(recoverySecret).privateKey)],
      ['password KEK', Buffer.from(passwordKeys.kek)],
      ['user private key', Buffer.from(session.userPrivateKey)],
      ['tenant private key', Buffer.from(session.tenantPrivateKey)],
      ['epoch private key', Buffer.from(epoch.privateKey)],
      ['epoch index key', Buffer.from(epoch.indexKey)],
      ['mail DEK', Buffer.from(dek)],
      ...parseCodecKeys(cfg.TEMPORAL_CODEC_KEYS).map((k): [string, Buffer] => [
        `payload codec key ${k.id}`,
        k.key,
      ]),
    ];
    // The needles work: the dump does hold the (public) bytes it should, found the same way.
    expect(foundIn(atRest, row.sha256, 'mail hash').length).toBeGreaterThan(0);
    expect(needles.flatMap(([label, bytes]) => foundIn(atRest, bytes, label))).toEqual([]);
  } finally {
    await ctx.close();
  }
}, 120_000);
