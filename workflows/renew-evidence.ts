import { continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { EvidenceActivities } from '../activities/evidence';
import {
  evidenceRenewalProgressQuery,
  type EvidenceRenewalInput,
  type EvidenceRenewalProgress,
} from '../contracts/evidence';

const { backfillAnchorEvidence, renewDueEvidence } = proxyActivities<EvidenceActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '10 minutes' },
});

/** Pages of records per run before it continues as new (bounded history). */
const PAGES_PER_RUN = 100;

/**
 * Renews the anchor checkpoints' evidence records (RFC 4998 §5.2, §5.3) page by page until none
 * is due. A record that fails is recorded on its row and left to the next run, so one broken TSA
 * cannot keep a run going; the failure counter and an alert say so.
 */
export async function renewEvidence(input: EvidenceRenewalInput): Promise<EvidenceRenewalProgress> {
  const startedAt = input.startedAt ?? workflowInfo().runStartTime.toISOString();
  const p: EvidenceRenewalProgress = input.progress ?? { backfilled: 0, renewed: 0, failed: 0 };
  setHandler(evidenceRenewalProgressQuery, () => p);
  if (!input.startedAt) p.backfilled += await backfillAnchorEvidence();
  for (let page = 0; page < PAGES_PER_RUN; page++) {
    const r = await renewDueEvidence({ hashTo: input.hashTo, failedSince: startedAt });
    p.renewed += r.renewed;
    p.failed += r.failed;
    if (!r.more) return p;
  }
  return continueAsNew<typeof renewEvidence>({ ...input, startedAt, progress: p });
}
