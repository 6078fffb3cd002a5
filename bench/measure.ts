/** Runs `op` repeatedly for about `seconds` and returns operations per second. */
export async function opsPerSecond(op: () => Promise<unknown>, seconds = 2): Promise<number> {
  for (let i = 0; i < 5; i++) await op(); // warm-up
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await op();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

export const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

/** The p-quantile (0…1) of `xs` by nearest rank; NaN for no samples. */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const sorted = xs.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
