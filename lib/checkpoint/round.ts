import { anchorAuditHeads } from '../audit/anchor';
import { checkpointLogs, type CheckpointDeps, type RoundResult } from '../ledger/checkpointer';

/**
 * One checkpoint round (the ledgerCheckpoint workflow's activity): each tenant's audit chain head
 * into its ledger first, so this round's tenant checkpoints cover it, then the checkpoints and the
 * timestamp. Above both lib/audit and lib/ledger, so neither imports the other's way back.
 */
export async function checkpointRound(deps: CheckpointDeps): Promise<RoundResult> {
  await anchorAuditHeads(deps.db, deps);
  return checkpointLogs(deps);
}
