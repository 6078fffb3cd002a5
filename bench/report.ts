/**
 * Figures for BENCHMARKS.md: every bench prints its human line as before, and for each figure a
 * machine line `@figure {...}` that `npm run bench` (bench/run.ts) collects from its output.
 */
export interface Figure {
  section: string;
  name: string;
  value: number;
  unit: string;
}

export function figure(section: string, name: string, value: number, unit: string): void {
  const f: Figure = { section, name, value: Number(value.toFixed(3)), unit };
  console.log(`@figure ${JSON.stringify(f)}`);
}

export const parseFigures = (output: string): Figure[] =>
  output
    .split('\n')
    .filter((l) => l.startsWith('@figure '))
    .map((l) => JSON.parse(l.slice('@figure '.length)) as Figure);
