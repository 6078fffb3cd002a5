import Table from 'cli-table3';
import { Command } from 'commander';
import { config } from '../lib/config';
import { runChecks } from '../lib/doctor/checks';

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

program.parseAsync().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
