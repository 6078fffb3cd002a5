import { Worker } from '@temporalio/worker';
import { loadConfig } from '../../lib/config';
import { workflowsPath } from '../../lib/temporal/bundle';
import { dataConverter } from '../../lib/temporal/data-converter';
import { loadHistories, workflowTypes } from '../helpers/workflow-histories';

/**
 * Issue 18 §3: every workflow type replays its history recorded on the previous release
 * (test/fixtures/histories, `npm run histories:record`). A change that would break runs in
 * flight — a new activity call, a reordered timer, a removed signal handler — fails here
 * with a nondeterminism error, unless it sits behind `patched()` (docs/decisions/0016).
 */
const histories = loadHistories();

it('has a recorded history for every workflow type the worker registers', () => {
  expect(histories.map((h) => h.workflowType)).toEqual(workflowTypes());
});

it('replays every recorded history against the current workflow code', async () => {
  // The fixtures were recorded with the development payload codec key.
  const cfg = loadConfig({ NODE_ENV: 'test' });
  const results: { workflowType: string; error?: string }[] = [];
  for await (const r of Worker.runReplayHistories(
    { workflowsPath, dataConverter: dataConverter(cfg.TEMPORAL_CODEC_KEYS) },
    histories.map((h) => ({ workflowId: h.workflowId, history: h.history })),
  )) {
    results.push({
      workflowType: histories.find((h) => h.workflowId === r.workflowId)!.workflowType,
      ...(r.error ? { error: `${r.error.name}: ${r.error.message}` } : {}),
    });
  }
  expect(results.filter((r) => r.error)).toEqual([]);
  expect(results.map((r) => r.workflowType).sort()).toEqual(workflowTypes());
}, 120_000);
