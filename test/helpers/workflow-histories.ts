import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { History } = temporal.api.history.v1;
/** Stored in protobuf, as the server sends them (binary: no JSON round trip to get wrong). */
const EXT = '.binpb';

/**
 * Recorded workflow histories (issue 18 §3): one per workflow type, taken from a run of the
 * integration suites on the previous release and replayed against today's workflow code by
 * test/unit/workflow-replay.test.ts. `npm run histories:record` refreshes them
 * (docs/decisions/0016).
 */
export const HISTORIES_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');
const WORKFLOWS_INDEX = path.resolve(__dirname, '..', '..', 'workflows', 'index.ts');

/** The workflow types the worker registers: every name workflows/index.ts exports. */
export function workflowTypes(): string[] {
  const source = readFileSync(WORKFLOWS_INDEX, 'utf8');
  return [...source.matchAll(/export \{([^}]+)\} from/g)]
    .flatMap((m) => m[1]!.split(','))
    .map((s) => s.trim())
    .filter(Boolean)
    .sort();
}

/** test/fixtures/histories/index.json: where each history came from; replay needs its workflow id. */
interface Recorded {
  workflowId: string;
  runId: string;
  events: number;
  closed: boolean;
}
interface HistoryIndex {
  /** `git describe` of the code the histories were recorded on. */
  recordedOn: string;
  histories: Record<string, Recorded>;
}
const INDEX = 'index.json';

export function loadHistories(): {
  workflowType: string;
  workflowId: string;
  history: temporal.api.history.v1.History;
}[] {
  const index = JSON.parse(readFileSync(path.join(HISTORIES_DIR, INDEX), 'utf8')) as HistoryIndex;
  return Object.entries(index.histories)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([workflowType, h]) => ({
      workflowType,
      workflowId: h.workflowId,
      history: History.decode(readFileSync(path.join(HISTORIES_DIR, `${workflowType}${EXT}`))),
    }));
}

/** Bigger histories replay slowly and bloat the repository; the richest one below this is kept. */
const MAX_EVENTS = 1_000;

/**
 * For every workflow type, the richest history the stack holds (most events, closed runs before
 * running ones — a running export is recorded up to its 7-day sleep), written to `dir`. Returns
 * the types no run was found for.
 */
export async function recordHistories(client: Client, dir = HISTORIES_DIR): Promise<string[]> {
  const missing: string[] = [];
  const index: HistoryIndex = {
    recordedOn: execFileSync('git', ['describe', '--always', '--dirty'], {
      encoding: 'utf8',
    }).trim(),
    histories: {},
  };
  for (const type of workflowTypes()) {
    let best: (Recorded & { history: temporal.api.history.v1.IHistory }) | undefined;
    let seen = 0;
    for await (const wf of client.workflow.list({ query: `WorkflowType = '${type}'` })) {
      if (++seen > 40) break;
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const events = history.events?.length ?? 0;
      const closed = wf.status.name !== 'RUNNING';
      if (events > MAX_EVENTS) continue;
      const better =
        !best || (closed && !best.closed) || (closed === best.closed && events > best.events);
      if (better) best = { history, closed, events, workflowId: wf.workflowId, runId: wf.runId };
    }
    if (!best) {
      missing.push(type);
      continue;
    }
    mkdirSync(dir, { recursive: true });
    const { history, ...about } = best;
    writeFileSync(path.join(dir, `${type}${EXT}`), History.encode(history).finish());
    index.histories[type] = about;
  }
  writeFileSync(path.join(dir, INDEX), `${JSON.stringify(index, null, 2)}\n`);
  return missing;
}
