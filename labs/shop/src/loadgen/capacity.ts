/**
 * The capacity search (`microlab load --find-capacity`): the offered rate is raised step by step
 * until a step's p95 or error rate crosses its bound, or its requests are not all served; the
 * knee is the highest rate that stayed within bounds. Pure, so the search can be tested on
 * made-up figures; the load generator (run.ts) runs the steps it asks for.
 *
 * The search: start at `start`, multiply by `factor` after each step within bounds; a step
 * over a bound is run once more at the same rate (one unlucky step on a shared laptop does not
 * end the search); a rate over its bounds twice is the first rate over capacity. Then `refine`
 * steps halve the gap between the highest rate within bounds and the lowest rate over them.
 */

export interface CapacityOptions {
  /** First offered rate (scenarios/s). */
  start: number;
  /** How much each step within bounds raises the rate (> 1). */
  factor: number;
  /** Seconds each step offers its rate for. */
  stepSeconds: number;
  /** Bound on a step's p95 latency (ms), over every request it started. */
  p95Ms: number;
  /** Bound on a step's failed requests, as a share of those it started (0.01 = 1%). */
  maxErrorRate: number;
  /** Bisection steps once a rate over capacity is known. */
  refine: number;
  /** The search stops here (the knee is then "at least" this). */
  maxRate: number;
}

export const DEFAULT_CAPACITY: CapacityOptions = {
  start: 5,
  factor: 1.5,
  stepSeconds: 3,
  p95Ms: 1000,
  maxErrorRate: 0.01,
  refine: 2,
  maxRate: 400,
};

/** One step's figures, as measured over the requests its scenarios started. */
export interface StepFigures {
  /** Offered scenarios/s. */
  rate: number;
  /** Requests started, and those that failed (an error reply, a timeout, no answer). */
  requests: number;
  errors: number;
  /** Requests per second served without error over the step's seconds. */
  served: number;
  /** ms, over every request the step started. */
  p95: number;
  /** Scenarios due in the step that were not started (too many in flight). */
  dropped: number;
}

export interface CapacityStep extends StepFigures {
  /** Whether the step stayed within every bound; if not, which bound it crossed. */
  ok: boolean;
  over?: string;
}

export interface CapacityResult {
  options: CapacityOptions;
  steps: CapacityStep[];
  /**
   * The knee: the highest offered rate within bounds (scenarios/s), with what it served then
   * (requests/s) and its p95; absent when even the first step was over its bounds.
   */
  knee?: { rate: number; served: number; p95: number };
  /** The lowest rate found over the bounds, if any. */
  overRate?: number;
  /** Why the search stopped, one line. */
  reason: string;
}

/** Whether a step stayed within bounds, and if not, the first bound it crossed. */
export function judge(step: StepFigures, o: CapacityOptions): CapacityStep {
  const errorRate = step.requests ? step.errors / step.requests : 0;
  let over: string | undefined;
  if (step.requests === 0) over = 'no request was made';
  else if (step.dropped > 0) over = `${step.dropped} scenarios not started (too many in flight)`;
  else if (errorRate > o.maxErrorRate)
    over = `${(errorRate * 100).toFixed(1)}% of requests failed (bound ${(o.maxErrorRate * 100).toFixed(1)}%)`;
  else if (step.p95 > o.p95Ms) over = `p95 ${step.p95} ms (bound ${o.p95Ms} ms)`;
  return over === undefined ? { ...step, ok: true } : { ...step, ok: false, over };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** The search's state after `steps`: the best step within bounds, the lowest rate over them, refinements run. */
function replay(steps: CapacityStep[]): { best?: CapacityStep; overRate?: number; refined: number } {
  let best: CapacityStep | undefined;
  let overRate: number | undefined;
  let refined = 0;
  steps.forEach((s, i) => {
    if (overRate !== undefined) refined++;
    if (s.ok) {
      if (!best || s.rate > best.rate || (s.rate === best.rate && s.served > best.served)) best = s;
    } else if (overRate !== undefined) overRate = Math.min(overRate, s.rate);
    else if (i > 0 && steps[i - 1]!.rate === s.rate && !steps[i - 1]!.ok) overRate = s.rate;
  });
  return { best, overRate, refined };
}

/** The search's result after `steps`, stopped for `reason`. */
export function conclude(steps: CapacityStep[], o: CapacityOptions, reason: string): CapacityResult {
  const { best, overRate } = replay(steps);
  return {
    options: o,
    steps,
    ...(best ? { knee: { rate: best.rate, served: best.served, p95: best.p95 } } : {}),
    ...(overRate !== undefined ? { overRate } : {}),
    reason,
  };
}

/**
 * What to do after `steps` (judged, in the order run): `{ next }` is the next rate to offer;
 * `{ result }` ends the search.
 */
export function plan(
  steps: CapacityStep[],
  o: CapacityOptions,
): { next: number; result?: undefined } | { next?: undefined; result: CapacityResult } {
  if (steps.length === 0) return { next: round(Math.min(o.start, o.maxRate)) };
  const { best, overRate, refined } = replay(steps);
  const finish = (reason: string) => ({ result: conclude(steps, o, reason) });
  const last = steps.at(-1)!;
  if (overRate === undefined) {
    // Still climbing: a step over its bounds is run once more, else the rate goes up.
    if (!last.ok) return { next: last.rate };
    if (last.rate >= o.maxRate)
      return finish(`every rate up to the search's limit (${o.maxRate}/s) stayed within bounds`);
    return { next: round(Math.min(o.maxRate, last.rate * o.factor)) };
  }
  const crossed = steps.find((s) => s.rate === overRate && !s.ok)?.over ?? 'a bound';
  if (!best) return finish(`the first rate, ${overRate}/s, was already over: ${crossed}`);
  if (refined >= o.refine || overRate - best.rate < 0.5)
    return finish(`${overRate}/s crossed a bound (${crossed}); ${best.rate}/s stayed within`);
  return { next: round((best.rate + overRate) / 2) };
}
