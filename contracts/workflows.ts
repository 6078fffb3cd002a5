import type { ArchiveBatchInput, ArchiveMailInput } from './archive';
import type { EvidenceRenewalInput } from './evidence';
import type { ExportInput } from './export';
import type { GrantRef } from './grant';
import type { ImapImportInput, ImportInput } from './import';
import type { IntegrityCheckInput } from './integrity';
import type { KeyRotationInput } from './key-rotation';
import type { RestoreInput } from './restore';
import type { RetentionRunInput, RetentionSweepProgress } from './retention';

/**
 * Every workflow type by name, with the arguments it is started with. The LMTP server, the portal,
 * the CLI and the schedules start workflows through lib/temporal/start-workflow.ts, which takes
 * only these names and these arguments; workflows/contracts-check.ts fails to compile when a
 * workflow is missing here or its parameters no longer accept what this says.
 */
export interface WorkflowArgs {
  archiveMail: [ArchiveMailInput];
  archiveBatch: [ArchiveBatchInput];
  maintainSearchIndex: [GrantRef];
  exportMailbox: [ExportInput];
  importMail: [ImportInput];
  importImapAccount: [ImapImportInput];
  restoreMails: [RestoreInput];
  rotateKeys: [KeyRotationInput];
  integrityCheck: [IntegrityCheckInput];
  retentionRun: [RetentionRunInput];
  retentionSweep: [] | [RetentionSweepProgress];
  ledgerCheckpoint: [];
  renewEvidence: [EvidenceRenewalInput];
  sessionSweep: [];
  platformSmoke: [];
  emptyWorkflow: [];
}

export type WorkflowName = keyof WorkflowArgs;
