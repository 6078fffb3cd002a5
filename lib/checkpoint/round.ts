import { anchorAuditHeads } from '../audit/anchor';
import { sealCoveredMails } from '../archive/seal';
import {
  checkpointLogs,
  timestampedSizes,
  type CheckpointDeps,
  type RoundResult,
} from '../ledger/checkpointer';

/**
 * One checkpoint round (the ledgerCheckpoint workflow's activity): each tenant's audit chain head
 * into its ledger first, so this round's tenant checkpoints cover it, then the checkpoints and the
 * timestamp, then the seal of every mail a timestamp now covers. Above lib/audit, lib/ledger and
 * lib/archive, so none of them imports another's way back. `sealedUpTo` is the caller's memory
 * of what it sealed (per worker process).
 */
export async function checkpointRound(
  deps: CheckpointDeps,
  sealedUpTo = new Map<string, number>(),
): Promise<RoundResult & { mailsSealed: number }> {
  await anchorAuditHeads(deps.db, deps);
  const round = await checkpointLogs(deps);
  const mailsSealed = await sealCoveredMails(deps.db, await timestampedSizes(deps.db), sealedUpTo);
  return { ...round, mailsSealed };
}
