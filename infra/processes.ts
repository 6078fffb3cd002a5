import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

/**
 * Child processes of the dev stack or the test run: output prefixed with the process name,
 * stopped together in reverse start order, and a clear error when one dies during start-up.
 */
export class ProcessGroup {
  private readonly children: { name: string; child: ChildProcess }[] = [];
  private stopping = false;
  /** Children stopped on purpose (`stop(name)`), whose exit is not a failure. */
  private readonly stopped = new Set<ChildProcess>();

  constructor(
    private readonly opts: {
      quiet?: boolean;
      onUnexpectedExit?: (name: string, code: number | null) => void;
    } = {},
  ) {}

  start(
    name: string,
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
  ): ChildProcess {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    const tail: string[] = [];
    const pipe = (stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream) => {
      let buf = '';
      stream?.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) {
          tail.push(line);
          if (tail.length > 40) tail.shift();
          if (!this.opts.quiet) out.write(`[${name}] ${line}\n`);
        }
      });
    };
    pipe(child.stdout, process.stdout);
    pipe(child.stderr, process.stderr);
    child.on('exit', (code) => {
      if (this.stopping || this.stopped.has(child)) return;
      if (this.opts.quiet)
        process.stderr.write(`[${name}] exited with ${code}; last output:\n${tail.join('\n')}\n`);
      this.opts.onUnexpectedExit?.(name, code);
    });
    this.children.push({ name, child });
    return child;
  }

  /** SIGTERM the running children called `name` (fault tests stop one service of a stack). */
  async stop(name: string, graceMs = 10_000): Promise<void> {
    for (const { child } of this.children.filter((c) => c.name === name)) {
      this.stopped.add(child);
      await terminate(child, graceMs);
    }
  }

  /**
   * kill -9 the running children called `name`: the process vanishes mid-request, as on a crashed
   * machine, with no chance to flush, close connections or say goodbye (fault tests).
   */
  async kill(name: string): Promise<void> {
    for (const { child } of this.children.filter((c) => c.name === name)) {
      this.stopped.add(child);
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** SIGTERM everything (newest first), then SIGKILL whatever is still alive after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const { child } of [...this.children].reverse()) await terminate(child, graceMs);
  }
}

async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Below this the kernel hands out no ports for outgoing connections (Linux:
 * net.ipv4.ip_local_port_range). A port the OS picks for us (listen on 0) comes from that range,
 * where any outgoing connection — a test's HTTP client, a database pool — may take it as its
 * local port before our service binds it (seen as EADDRINUSE in CI). Ports below it are not.
 */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
  } catch {
    return 32768;
  }
}

function listenable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(bound));
    });
  });
}

/**
 * A port free right now (for test runs that must not collide with `npm run dev`): a random one
 * below the kernel's range for outgoing connections, so nothing takes it in passing; the OS's
 * pick only if none of those is free.
 */
export async function freePort(): Promise<number> {
  const low = Math.max(11_000, Math.min(ephemeralLow(), 65_535));
  for (let i = 0; i < 50 && low > 11_000; i++) {
    const port = await listenable(10_000 + Math.floor(Math.random() * (low - 10_000)));
    if (port) return port;
  }
  const port = await listenable(0);
  if (!port) throw new Error('no free port');
  return port;
}

/**
 * `n` free ports, all different: the kernel may hand the same ephemeral port to two sequential
 * probes once the first is closed, and two services on one port fail to start.
 */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  child?: ChildProcess,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null)
      throw new Error(`${what}: process exited with ${child.exitCode} before it was ready`);
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${what} not ready after ${timeoutMs / 1000}s${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}

/**
 * One process of the product from its sources (`script` relative to the repository), with extra
 * environment; resolves once it listens on `port`, if given. Benchmarks and tests that need a
 * process of their own — its own settings, its own memory to measure — start it with this.
 */
export async function spawnApp(
  script: string,
  env: NodeJS.ProcessEnv,
  port?: number,
  nodeFlags: string[] = [],
): Promise<ChildProcess> {
  const repo = path.resolve(__dirname, '..');
  const child = spawn(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', path.join(repo, script)],
    {
      env: { ...process.env, ...env },
      stdio: process.env.BENCH_VERBOSE === '1' ? 'inherit' : 'ignore',
    },
  );
  if (port)
    await waitFor(
      script,
      () =>
        new Promise<boolean | undefined>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
          s.on('error', () => resolve(undefined));
        }),
      60_000,
      child,
    );
  return child;
}

/** Peak resident memory (VmHWM) of a process, MiB. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024);
}
