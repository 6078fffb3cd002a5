import { scenarios } from './scenarios';

/** `npm run fault -- <scenario>|all`: runs fault scenarios, prints each verdict, exit 1 on a failure. */
async function main(): Promise<void> {
  const which = process.argv[2] ?? 'all';
  const names = which === 'all' ? Object.keys(scenarios) : [which];
  let failed = 0;
  for (const name of names) {
    const scenario = scenarios[name];
    if (!scenario)
      throw new Error(`no scenario ${name}; try: ${Object.keys(scenarios).join(', ')}, all`);
    console.log(`\n== fault: ${name} ==`);
    const v = await scenario();
    for (const l of v.lines) console.log(`  ${l}`);
    console.log(`  => ${v.ok ? 'PASS' : 'FAIL'}`);
    if (!v.ok) failed++;
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
