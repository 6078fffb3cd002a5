import Table from 'cli-table3';
import { Command } from 'commander';
import { config } from '../lib/config';
import { createDb } from '../lib/db';
import { runChecks } from '../lib/doctor/checks';
import { verifyLog } from '../lib/ledger/verify-log';

/** The `mailrepo` operator command. */
const program = new Command('mailrepo').description('mailrepo operator tools');

program
  .command('doctor')
  .description('check every service: reachable, version, TLS; exits 1 when one is down')
  .option('--json', 'print JSON instead of a table')
  .action(async (opts: { json?: boolean }) => {
    const results = await runChecks(config());
    if (opts.json) console.log(JSON.stringify(results, null, 2));
    else {
      const color = process.stdout.isTTY;
      const mark = (ok: boolean) =>
        ok ? (color ? '\x1b[32mup\x1b[0m' : 'up') : color ? '\x1b[31mDOWN\x1b[0m' : 'DOWN';
      const table = new Table({
        head: ['service', 'status', 'version', 'TLS', 'detail'],
        style: { head: [], border: [] },
      });
      for (const r of results) table.push([r.service, mark(r.ok), r.version, r.tls, r.detail]);
      console.log(table.toString());
    }
    const down = results.filter((r) => !r.ok);
    if (down.length) {
      console.error(`${down.length} service(s) down: ${down.map((r) => r.service).join(', ')}`);
      process.exitCode = 1;
    }
  });

const ledger = program.command('ledger').description('Merkle ledger tools');
ledger
  .command('verify')
  .description('recompute a log from its entries and check tiles, checkpoints and anchoring')
  .option('--tenant <id>', 'tenant whose log to verify')
  .option('--anchor', 'verify the global anchor log instead')
  .action(async (opts: { tenant?: string; anchor?: boolean }) => {
    if (!opts.tenant === !opts.anchor)
      throw new Error('give exactly one of --tenant <id> or --anchor');
    const cfg = config();
    const db = createDb(cfg.DATABASE_URL, 2);
    try {
      const log = await db
        .selectFrom('ledger_logs')
        .select('id')
        .where((eb) =>
          opts.tenant ? eb('tenant_id', '=', opts.tenant) : eb('tenant_id', 'is', null),
        )
        .executeTakeFirst();
      if (!log)
        throw new Error(
          opts.tenant ? `tenant ${opts.tenant} has no ledger yet` : 'no anchor log yet',
        );
      const report = await verifyLog(db, log.id);
      console.log(`log ${report.logId}: ${report.size} entries, ${report.checkpoints} checkpoints`);
      if (!report.problems.length)
        console.log('OK: tiles, roots, checkpoint signatures, consistency and anchoring verified');
      for (const p of report.problems) console.error(`FAILED at index ${p.at}: ${p.what}`);
      if (report.problems.length) process.exitCode = 1;
    } finally {
      await db.destroy();
    }
  });

program.parseAsync().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
