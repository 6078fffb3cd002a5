import path from 'node:path';
import { ThreadPool } from '../process/thread-pool';
import type { UnlockedEpoch } from '../vault/epochs';
import { buildSegment, type SegmentJob } from './segment-build';
import type { SealedSegment } from './segment-store';

/**
 * Where merge batches become segments. A merge hands out one job per epoch batch; `lanes` is how
 * many it may have in flight. In-process is one lane; SegmentBuildThreads runs jobs on worker
 * threads, so decrypting and inverting a tenant's queue uses every core (decision 0021: the merge
 * rate goal at 10M mails). The epoch's private and index keys go to the thread with the job, as
 * bytes in this process's memory, and are zeroed there when the job ends.
 */

export interface SegmentBuilder {
  readonly lanes: number;
  build(job: SegmentJob, epoch: UnlockedEpoch): Promise<SealedSegment>;
}

export const inProcess: SegmentBuilder = { lanes: 1, build: buildSegment };

interface Answer {
  segment?: SealedSegment;
  error?: string;
}

export class SegmentBuildThreads implements SegmentBuilder {
  private readonly pool: ThreadPool<unknown, Answer>;

  constructor(readonly lanes: number) {
    this.pool = new ThreadPool({ module: path.join(__dirname, 'segment-build-thread'), lanes });
  }

  async build(job: SegmentJob, epoch: UnlockedEpoch): Promise<SealedSegment> {
    const answer = await this.pool.run({
      job,
      keys: {
        epochId: epoch.epochId,
        privateKey: epoch.privateKey,
        indexKey: epoch.indexKey,
        publicKey: epoch.known?.publicKey,
      },
    });
    if (!answer.segment) throw new Error(`segment build failed: ${answer.error}`);
    return answer.segment;
  }

  /** Stops every thread; jobs in flight fail. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
