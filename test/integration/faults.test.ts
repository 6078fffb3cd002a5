import { scenarios } from '../../fault/scenarios';

/**
 * Issue 10 §4, the fault scenarios that fit the suite's time: one then two of four MinIO nodes
 * killed during ingest, and PostgreSQL stopped for 10 s. Each starts a stack of its own on free
 * ports. (`npm run fault -- all` adds the Temporal restart and the 10-minute TSA outage.)
 */
describe('faults under ingest', () => {
  it.each(['minio-nodes', 'postgres'])(
    '%s: nothing acknowledged is lost',
    async (name) => {
      const v = await scenarios[name]!();
      console.log(`${name}:\n  ${v.lines.join('\n  ')}`);
      expect(v).toMatchObject({ ok: true });
    },
    600_000,
  );
});
