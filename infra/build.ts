import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { transformFileSync } from '@swc/core';
import { BUILD_INFO_FILE, sha256Hex, type BuildInfo } from '../lib/process/build-info';
import { writeWorkflowBundle } from '../lib/temporal/bundle';

/**
 * `npm run build`: the release build (issue 18 §2). Type-checks, compiles every process (portal
 * server, LMTP, worker, CLI, migrations, codec endpoint) to CommonJS under build/dist with plain
 * `node` as the only thing needed to run it, bundles the workflow code from that output, builds
 * the portal, and stamps it all with a build id: a hash of every file produced, so the same
 * sources give the same id and a worker can tell its own workflow bundle from another build's.
 *
 *   --out <dir>      instead of build/dist (inside the checkout: node_modules must be above it)
 *   --no-portal      skip the portal's Vite build (tests that serve an existing one)
 *   --no-typecheck   skip `tsc --noEmit` (when it has just run, as in `npm test`)
 */

const repo = path.resolve(__dirname, '..');
/** Every directory a production process loads code from; web/app is the portal's, built by Vite. */
const SOURCE_DIRS = [
  'contracts',
  'lib',
  'application',
  'workflows',
  'activities',
  'workers',
  'web',
];
const EXCLUDED = new Set(['web/app']);

interface Options {
  out: string;
  portal: boolean;
  typecheck: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { out: path.join(repo, 'build', 'dist'), portal: true, typecheck: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') o.out = path.resolve(argv[++i] ?? '');
    else if (a === '--no-portal') o.portal = false;
    else if (a === '--no-typecheck') o.typecheck = false;
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.out.startsWith(repo + path.sep))
    throw new Error(`--out must lie inside ${repo}, where node_modules is found`);
  return o;
}

function* filesUnder(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (EXCLUDED.has(path.relative(repo, full))) continue;
    if (e.isDirectory()) yield* filesUnder(full);
    else if (e.isFile()) yield full;
  }
}

/** TypeScript to CommonJS file by file (isolatedModules guarantees that is safe); assets copied. */
function compile(out: string): number {
  let count = 0;
  for (const dir of SOURCE_DIRS) {
    for (const file of filesUnder(path.join(repo, dir))) {
      const rel = path.relative(repo, file);
      if (/\.tsx?$/.test(file) && !file.endsWith('.d.ts')) {
        const target = path.join(out, rel.replace(/\.tsx?$/, '.js'));
        const { code, map } = transformFileSync(file, {
          jsc: {
            parser: { syntax: 'typescript', tsx: file.endsWith('.tsx') },
            target: 'es2022',
            transform: { react: { runtime: 'automatic' } },
          },
          // import() stays import(): ESM-only packages (pdfjs-dist, the portal's server build).
          module: { type: 'commonjs', ignoreDynamic: true },
          sourceMaps: true,
          sourceFileName: path.relative(path.dirname(target), file),
        });
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, `${code}\n//# sourceMappingURL=${path.basename(target)}.map\n`);
        if (map) writeFileSync(`${target}.map`, map);
        count++;
      } else if (!file.endsWith('.d.ts')) {
        const target = path.join(out, rel);
        mkdirSync(path.dirname(target), { recursive: true });
        copyFileSync(file, target);
      }
    }
  }
  return count;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(cmd, args, { cwd: repo, env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed`);
}

function gitCommit(): string | null {
  try {
    const git = (...a: string[]) =>
      execFileSync('git', a, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const head = git('rev-parse', 'HEAD').trim();
    return git('status', '--porcelain').trim() ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/** A hash over every produced file (path and content), so the id names exactly this output. */
function treeHash(roots: string[]): string {
  const h = [];
  for (const root of roots)
    for (const f of [...filesUnder(root)].sort())
      h.push(`${path.relative(repo, f)}\0${sha256Hex(readFileSync(f))}`);
  return sha256Hex(Buffer.from(h.join('\n')));
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const bin = (name: string) => path.join(repo, 'node_modules', '.bin', name);
  const started = Date.now();
  if (o.typecheck) run(bin('tsc'), ['--noEmit']);

  rmSync(o.out, { recursive: true, force: true });
  const compiled = compile(o.out);

  // From the compiled output, so the bundle holds exactly the workflow code the build ships.
  const { path: bundle, code } = await writeWorkflowBundle(o.out, {
    workflowsPath: path.join(o.out, 'workflows', 'index.js'),
    failureConverterPath: path.join(o.out, 'lib', 'temporal', 'failure-converter.js'),
  });

  const portalDir = path.join(repo, process.env.PORTAL_BUILD_DIR ?? path.join('build', 'portal'));
  if (o.portal)
    run(bin('react-router'), ['build'], { ...process.env, PORTAL_BUILD_DIR: portalDir });

  const info: BuildInfo = {
    buildId: treeHash(o.portal ? [o.out, portalDir] : [o.out]).slice(0, 16),
    version: (
      JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }
    ).version,
    commit: gitCommit(),
    builtAt: new Date().toISOString(),
    node: process.version,
    workflowBundle: { file: path.basename(bundle), sha256: sha256Hex(Buffer.from(code)) },
  };
  writeFileSync(path.join(o.out, BUILD_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  console.log(
    `build ${info.buildId} (mailrepo ${info.version}, ${info.commit ?? 'no git'}): ` +
      `${compiled} modules and the workflow bundle in ${path.relative(repo, o.out)}` +
      `${o.portal ? `, the portal in ${path.relative(repo, portalDir)}` : ''} ` +
      `(${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
