import { defineQuery } from '@temporalio/workflow';

/**
 * The renewEvidence workflow (issue 23, decision 0030): the daily schedule renews the anchor
 * checkpoints' evidence records whose TSA certificate nears its end or whose TSA is distrusted;
 * an operator starts a hash-tree renewal to a new digest algorithm.
 */
export interface EvidenceRenewalInput {
  trigger: 'schedule' | 'operator';
  /** Hash-tree renewal: every record whose chain uses another algorithm moves to this one. */
  hashTo?: 'sha512' | 'sha3-512';
  /** Continued as new: the run's start (failures since are not retried) and its totals. */
  startedAt?: string;
  progress?: EvidenceRenewalProgress;
}

export interface EvidenceRenewalProgress {
  /** Records made for checkpoints timestamped before records were kept. */
  backfilled: number;
  renewed: number;
  failed: number;
}

export const evidenceRenewalProgressQuery =
  defineQuery<EvidenceRenewalProgress>('evidenceRenewalProgress');
