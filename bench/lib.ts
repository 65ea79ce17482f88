/**
 * A small benchmark harness: run a thing N times, print median with min and max, and
 * compare against a baseline measured in the same process. Figures only, never pass/fail.
 */
import { performance } from 'node:perf_hooks';

export interface Figure {
  name: string;
  unit: string;
  samples: number[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Times `run` `runs` times (after `warmup` untimed runs); milliseconds. */
export async function timeRuns(runs: number, run: () => Promise<unknown>, warmup = 0): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  return samples;
}

function fmt(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function formatFigure(f: Figure): string {
  const n = f.samples.length;
  return `${f.name}: median ${fmt(median(f.samples))} ${f.unit} (min ${fmt(Math.min(...f.samples))}, max ${fmt(Math.max(...f.samples))}, n=${n})`;
}

export function report(f: Figure, baseline?: Figure): void {
  let line = formatFigure(f);
  if (baseline) line += `; ${fmt(median(f.samples) / median(baseline.samples))}x ${baseline.name}`;
  console.log(line);
}
