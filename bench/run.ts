import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { config } from '../lib/config';
import { fmt } from './measure';
import { parseFigures, type Figure } from './report';

/**
 * `npm run bench`: every benchmark, one after another (they must not share the CPU), each in its
 * own process; then BENCHMARKS.md with the machine, every figure, and our figures as ratios of
 * the raw baselines measured in the same run. Prints figures; asserts nothing. BENCH_FULL=1 runs
 * the large sizes (1M ledger leaves, 1M mails of search, 60 s ingest runs with the size mix).
 * bench/history.md — figures of earlier runs that a change is measured against — goes in as is.
 */

const full = process.env.BENCH_FULL === '1';
const repo = path.resolve(__dirname, '..');

interface Step {
  title: string;
  script: string;
  args?: string[];
  nodeFlags?: string[];
  env?: Record<string, string>;
}

const STEPS: Step[] = [
  { title: 'Raw baselines', script: 'bench/baselines.ts' },
  { title: 'Crypto', script: 'bench/crypto.ts' },
  { title: 'Payload codec and TSA', script: 'bench/codec-tsa.ts' },
  { title: 'PDF and export', script: 'bench/pdf-export.ts' },
  { title: 'Attachment text extraction', script: 'bench/extract.ts' },
  { title: 'Ledger', script: 'bench/ledger.ts', args: [full ? '1000000' : '100000'] },
  {
    title: 'Search',
    script: 'bench/search.ts',
    args: [full ? '1000000' : '20000'],
    nodeFlags: ['--expose-gc'],
  },
  {
    title: 'Ingest (the whole product, LMTP to sealed)',
    script: 'bench/ingest.ts',
    args: full ? ['8', '60'] : ['8', '30'],
    env: full ? {} : { BENCH_QUICK: '1' },
  },
];

function runStep(step: Step): Promise<string> {
  console.log(`\n== ${step.title} ==`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(step.nodeFlags ?? []),
        '--import',
        'tsx',
        path.join(repo, step.script),
        ...(step.args ?? []),
      ],
      { env: { ...process.env, ...step.env }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of d.toString().split('\n'))
        if (line && !line.startsWith('@figure ')) console.log(line);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${step.script} exited with ${code}`)),
    );
  });
}

function machine(): string[] {
  const cpus = os.cpus();
  let pg = '?';
  try {
    pg = execFileSync(
      'psql',
      [config().DATABASE_URL.replace(/\/[^/]*$/, '/postgres'), '-tAc', 'SHOW server_version'],
      {
        encoding: 'utf8',
      },
    ).trim();
  } catch {
    /* psql missing: the version stays unknown */
  }
  return [
    `- CPU: ${cpus[0]?.model ?? '?'} × ${cpus.length} (as the OS reports them)`,
    `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; OS: ${os.type()} ${os.release()}`,
    `- Node.js ${process.version}; PostgreSQL ${pg}; PostgreSQL, MinIO and Temporal on the same machine`,
  ];
}

/** Thousands separated from 100 up; below that three significant digits. */
const num = (n: number) => (Math.abs(n) >= 100 ? fmt(n) : Number(n.toPrecision(3)).toString());

const find = (figs: Figure[], section: string, prefix: string) =>
  figs.find((f) => f.section === section && f.name.startsWith(prefix));

function ratios(figs: Figure[]): string[] {
  const rows: [string, Figure | undefined, Figure | undefined, string][] = [
    ['streaming AEAD encrypt ÷ raw AES-256-GCM', find(figs, 'crypto', 'streaming AEAD encrypt'), find(figs, 'baseline', 'raw AES-256-GCM'), 'the cost of segments, nonces and the stream framing'],
    ['streaming AEAD decrypt ÷ raw AES-256-GCM', find(figs, 'crypto', 'streaming AEAD decrypt'), find(figs, 'baseline', 'raw AES-256-GCM'), 'each segment verified before release'],
    ['export ZIP (MiB/s) ÷ raw AES-256-GCM', find(figs, 'export', 'AES-256 ZIP part ('), find(figs, 'baseline', 'raw AES-256-GCM'), 'deflate + WinZip AES (CTR + HMAC-SHA1) + SHA-256 per file'],
    ['ledger appends through the batcher ÷ raw PostgreSQL inserts', find(figs, 'ledger', 'appends through the batcher (256'), find(figs, 'baseline', 'raw PostgreSQL insert (16'), 'batched: many entries per transaction'],
    ['ingest accepted (20 KB) ÷ raw PostgreSQL inserts', find(figs, 'ingest', '20 KB mails: accepted'), find(figs, 'baseline', 'raw PostgreSQL insert (16'), 'per mail: parsing, an object in S3, rows, a share of a workflow start'],
    ['ingest end to end (20 KB) ÷ empty Temporal workflows', find(figs, 'ingest', '20 KB mails: end to end'), find(figs, 'ingest', 'baseline: empty Temporal workflow'), 'one archiveBatch workflow per few mails (decision 0020); the end includes the checkpoint interval'],
    ['ingest end to end (20 KB) ÷ LMTP accept path alone', find(figs, 'ingest', '20 KB mails: end to end'), find(figs, 'ingest', 'baseline: LMTP accept path alone'), 'the worker, Temporal and the seal beside the LMTP process on the same cores'],
  ]; // prettier-ignore
  return rows
    .filter(([, a, b]) => a && b)
    .map(
      ([name, a, b, why]) =>
        `| ${name} | ${num(a!.value)} ${a!.unit} / ${num(b!.value)} ${b!.unit} | **${num(a!.value / b!.value)}** | ${why} |`,
    );
}

async function main(): Promise<void> {
  const started = new Date();
  const outputs: { step: Step; out: string }[] = [];
  for (const step of STEPS) outputs.push({ step, out: await runStep(step) });
  const figs = outputs.flatMap((o) => parseFigures(o.out));
  const lines = [
    '# Benchmarks',
    '',
    `Measured by \`npm run bench\`${full ? ' with BENCH_FULL=1' : ''} on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC ` +
      `(${((Date.now() - started.getTime()) / 60_000).toFixed(1)} minutes). Regenerate with the same command; ` +
      'figures are from one run on this machine, not guarantees.',
    '',
    '## Machine',
    '',
    ...machine(),
    '',
    '## Against the raw baselines (same run)',
    '',
    '| ratio | figures | ratio | what the difference pays for |',
    '| --- | --- | --- | --- |',
    ...ratios(figs),
    '',
    ...readFileSync(path.join(repo, 'bench', 'history.md'), 'utf8')
      .trimEnd()
      .split('\n'),
    '',
    '## Figures',
    '',
    '| area | figure | value |',
    '| --- | --- | --- |',
    ...figs.map((f) => `| ${f.section} | ${f.name} | ${num(f.value)} ${f.unit} |`),
    '',
    '## Output of each benchmark',
    '',
    ...outputs.flatMap(({ step, out }) => [
      `<details><summary>${step.title} — <code>${[step.script, ...(step.args ?? [])].join(' ')}</code></summary>`,
      '',
      '```',
      ...out.split('\n').filter((l) => l && !l.startsWith('@figure ')),
      '```',
      '',
      '</details>',
      '',
    ]),
  ];
  writeFileSync(path.join(repo, 'BENCHMARKS.md'), `${lines.join('\n')}\n`);
  console.log(`\nwrote BENCHMARKS.md (${figs.length} figures)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
