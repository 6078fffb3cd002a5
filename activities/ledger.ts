import { readFileSync } from 'node:fs';
import { timeStage } from '../lib/metrics/metrics';
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../lib/db';
import { auditLedgerKeyCreated } from '../lib/audit/ledger-keys';
import { checkpointRound } from '../lib/checkpoint/round';
import { timestampCovering, type RoundResult } from '../lib/ledger/checkpointer';
import { AppendBatcher } from '../lib/ledger/append-batcher';
import { CoverageWatcher } from '../lib/ledger/coverage-watcher';
import { findTenantLogId, type EntryKind, type LedgerKeys } from '../lib/ledger/store';
import type { TsaClientOptions } from '../lib/tsa/client';
import { whileHeartbeating } from '../lib/temporal/heartbeat';
import { distrustedTsaCerts, tsaCaFiles, tsaUrls, type Config } from '../lib/config';

/** The TSAs of a worker and what evidence renewal needs of them (decision 0030). */
export interface TsaSettings {
  tsas: Omit<TsaClientOptions, 'caPem'>[];
  /** Root bundles, read per use so a renewed CA file is picked up. */
  caFiles: string[];
  renewalDays: number;
  distrusted: ReadonlySet<string>;
}

export interface LedgerDeps {
  db: Db;
  ledger: LedgerKeys;
  tsa: TsaSettings;
}

/** Every TSA root, read now. */
export const readRoots = (tsa: TsaSettings): string =>
  tsa.caFiles.map((f) => readFileSync(f, 'utf8')).join('');

/** The ledger and TSA settings of a worker, from its configuration. */
export function ledgerSettings(cfg: Config): Omit<LedgerDeps, 'db'> {
  return {
    ledger: {
      wrapKey: Buffer.from(cfg.LEDGER_KEY_WRAP_KEY, 'base64'),
      originPrefix: cfg.LEDGER_ORIGIN,
      onKeyCreated: auditLedgerKeyCreated,
    },
    tsa: {
      tsas: tsaUrls(cfg).map((url) => ({
        url,
        policy: cfg.TSA_POLICY_OID,
        username: cfg.TSA_USERNAME,
        password: cfg.TSA_PASSWORD,
        timeoutMs: cfg.TSA_TIMEOUT_MS,
      })),
      caFiles: tsaCaFiles(cfg),
      renewalDays: cfg.EVIDENCE_RENEWAL_DAYS,
      distrusted: distrustedTsaCerts(cfg),
    },
  };
}

export interface TimestampCoverage {
  tenantCheckpointSize: number;
  anchorCheckpointSize: number;
  genTime: string;
}

export function createLedgerActivities({ db, ledger, tsa }: LedgerDeps) {
  // One batcher per worker process: concurrent ledgerAppend activities share transactions.
  const batcher = new AppendBatcher(db, ledger);
  // One watcher per process: waiting mails cost one query per tenant and second, not one each.
  const watcher = new CoverageWatcher(db);
  // How far each tenant's mails were sealed by this process's rounds (lib/archive/seal.ts).
  const sealedUpTo = new Map<string, number>();
  return {
    /** Appends an entry hash (hex) to the tenant's log; idempotent, so retries are harmless. */
    async ledgerAppend(input: {
      tenantId: string;
      entryHashHex: string;
      kind: EntryKind;
    }): Promise<{ index: number }> {
      const hash = Buffer.from(input.entryHashHex, 'hex');
      if (hash.length !== 32)
        throw ApplicationFailure.nonRetryable('entry hash must be 32 bytes of hex', 'InvalidEntry');
      return timeStage(`ledger_append_${input.kind}`, () =>
        batcher.append(input.tenantId, hash, input.kind),
      );
    },

    /**
     * Several entries of one tenant (an archiveBatch's mails), sequenced by the batcher in one
     * transaction; the indexes in the order given. Idempotent like ledgerAppend.
     */
    async ledgerAppendMany(input: {
      tenantId: string;
      entryHashesHex: string[];
      kind: EntryKind;
    }): Promise<{ indexes: number[] }> {
      const hashes = input.entryHashesHex.map((h) => Buffer.from(h, 'hex'));
      if (hashes.some((h) => h.length !== 32))
        throw ApplicationFailure.nonRetryable('entry hash must be 32 bytes of hex', 'InvalidEntry');
      const results = await timeStage(`ledger_append_${input.kind}`, () =>
        Promise.all(hashes.map((h) => batcher.append(input.tenantId, h, input.kind))),
      );
      return { indexes: results.map((r) => r.index) };
    },

    /**
     * Completes once the entry is covered by a timestamped anchor checkpoint. It waits (shared
     * watcher, heartbeating) for up to `waitMs`, then fails retryably so that Temporal's retry
     * policy (the caller's) takes over durably: one activity task per wait instead of one per
     * poll keeps the Temporal server's load per mail low.
     */
    async awaitTimestamp(input: {
      tenantId: string;
      index: number;
      waitMs?: number;
    }): Promise<TimestampCoverage> {
      const logId = await findTenantLogId(db, input.tenantId);
      const lookup = () => (logId ? timestampCovering(db, logId, input.index) : undefined);
      let covered = await lookup();
      if (!covered && input.waitMs) {
        const waitMs = input.waitMs;
        if (await whileHeartbeating(() => watcher.wait(input.tenantId, input.index, waitMs)))
          covered = await lookup();
      }
      if (!covered)
        throw ApplicationFailure.retryable(
          'entry is not yet covered by a timestamped checkpoint',
          'NotYetTimestamped',
        );
      return {
        tenantCheckpointSize: covered.tenantCheckpoint.size,
        anchorCheckpointSize: covered.anchorCheckpoint.size,
        genTime: covered.anchorCheckpoint.tsa_gen_time!.toISOString(),
      };
    },

    async runLedgerCheckpoint(): Promise<RoundResult> {
      const caPem = readRoots(tsa);
      return whileHeartbeating(() =>
        checkpointRound({ db, ...ledger, tsa: tsa.tsas.map((t) => ({ ...t, caPem })) }, sealedUpTo),
      );
    },
  };
}

export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
