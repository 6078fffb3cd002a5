import { heartbeat } from '@temporalio/activity';
import type { Db } from '../lib/db';
import { ERS_DIGESTS } from '../lib/evidence/evidence-record';
import {
  backfillEvidence,
  dueEvidence,
  renewEvidence,
  type RenewalSettings,
} from '../lib/ledger/anchor-evidence';
import { readRoots, type TsaSettings } from './ledger';

/** Records renewed per activity call: one page of the renewEvidence workflow. */
const PAGE = 50;

export function createEvidenceActivities({ db, tsa }: { db: Db; tsa: TsaSettings }) {
  const settings = (hashTo?: keyof typeof ERS_DIGESTS): RenewalSettings => ({
    tsas: tsa.tsas,
    rootsPem: readRoots(tsa),
    windowDays: tsa.renewalDays,
    distrusted: tsa.distrusted,
    ...(hashTo ? { hashTo: ERS_DIGESTS[hashTo] } : {}),
  });
  return {
    /** Records for checkpoints timestamped before they were kept, all of them, in pages. */
    async backfillAnchorEvidence(): Promise<number> {
      let total = 0;
      for (let n; (n = await backfillEvidence(db, tsa.tsas[0]!.url, 500)); total += n)
        heartbeat(total);
      return total;
    },

    /** One page of due records renewed; `more` when another page may be due. */
    async renewDueEvidence(input: { hashTo?: keyof typeof ERS_DIGESTS; failedSince: string }) {
      const s = settings(input.hashTo);
      const due = await dueEvidence(db, s, PAGE, new Date(input.failedSince));
      let renewed = 0;
      let failed = 0;
      for (const row of due) {
        const outcome = await renewEvidence(db, row, s);
        if (outcome === 'renewed') renewed++;
        if (outcome === 'failed') failed++;
        heartbeat(renewed + failed);
      }
      return { renewed, failed, more: due.length === PAGE };
    },
  };
}

export type EvidenceActivities = ReturnType<typeof createEvidenceActivities>;
