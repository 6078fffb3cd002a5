import { parentPort } from 'node:worker_threads';
import { buildSegmentWithKeys, type EpochKeys, type SegmentJob } from './segment-build';

/**
 * A merge thread (segment-build-threads.ts): builds the segments it is sent, one at a time, and
 * answers each with the sealed segment or the error's message. Holds no key between jobs.
 */

interface Request {
  job: SegmentJob;
  keys: EpochKeys;
}

parentPort!.on('message', ({ job, keys }: Request) => {
  buildSegmentWithKeys(job, keys).then(
    (segment) => parentPort!.postMessage({ segment }),
    (err: unknown) =>
      parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) }),
  );
});
