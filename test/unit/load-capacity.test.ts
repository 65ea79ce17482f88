/**
 * The capacity search's planner (labs/shop/src/loadgen/capacity.ts) on made-up systems: a
 * step is judged against its bounds, the rate climbs until a rate is over them twice, the gap
 * is then halved `refine` times, and the knee is the highest rate that stayed within.
 */
import { describe, expect, it } from 'vitest';
import type { CapacityOptions, CapacityResult, CapacityStep } from '../../labs/shop/src/loadgen/capacity';
import { DEFAULT_CAPACITY, judge, plan } from '../../labs/shop/src/loadgen/capacity';

const options: CapacityOptions = {
  ...DEFAULT_CAPACITY,
  start: 5,
  factor: 1.5,
  refine: 2,
  maxRate: 400,
  p95Ms: 500,
  stepSeconds: 2,
};

/**
 * A system that serves up to `capacity` requests/s (one request per scenario): below it p95 is
 * 40 ms and nothing fails; above it the queue grows (p95 over a second); `noise(i)` may spoil step i.
 */
function system(capacity: number, noise: (i: number) => boolean = () => false) {
  return (rate: number, i: number): CapacityStep => {
    const over = rate > capacity || noise(i);
    return judge(
      {
        rate,
        requests: Math.round(rate * options.stepSeconds),
        errors: 0,
        served: Math.min(rate, capacity),
        p95: over ? 1800 : 40,
        dropped: 0,
      },
      options,
    );
  };
}

function search(run: (rate: number, i: number) => CapacityStep, o = options): CapacityResult {
  const steps: CapacityStep[] = [];
  for (let i = 0; i < 50; i++) {
    const next = plan(steps, o);
    if (next.result) return next.result;
    steps.push(run(next.next, i));
  }
  throw new Error('the search did not end in 50 steps');
}

describe('capacity search', () => {
  it('judges a step against each bound, and names the one it crossed', () => {
    const base = { rate: 10, requests: 100, errors: 0, served: 10, p95: 120, dropped: 0 };
    expect(judge(base, options)).toMatchObject({ ok: true });
    expect(judge({ ...base, p95: 501 }, options)).toMatchObject({
      ok: false,
      over: 'p95 501 ms (bound 500 ms)',
    });
    expect(judge({ ...base, errors: 2 }, options)).toMatchObject({
      ok: false,
      over: '2.0% of requests failed (bound 1.0%)',
    });
    expect(judge({ ...base, errors: 1 }, options)).toMatchObject({ ok: true });
    expect(judge({ ...base, dropped: 3 }, options).over).toMatch(/^3 scenarios not started/);
    expect(judge({ ...base, requests: 0 }, options).over).toBe('no request was made');
  });

  it('finds the knee of a system that serves 25/s: the highest rate within bounds, below the first over them', () => {
    const result = search(system(25));
    const rates = result.steps.map((s) => s.rate);
    // 5 × 1.5^n up to 25.32 (over twice), then 2 halvings between 16.88 and 25.32
    expect(rates).toEqual([5, 7.5, 11.25, 16.88, 25.32, 25.32, 21.1, 23.21]);
    expect(result.overRate).toBe(25.32);
    expect(result.knee).toEqual({ rate: 23.21, served: 23.21, p95: 40 });
    expect(result.reason).toBe('25.32/s crossed a bound (p95 1800 ms (bound 500 ms)); 23.21/s stayed within');
  });

  it('a knee three times higher is found three times higher (within the refinement)', () => {
    const one = search(system(25)).knee!.rate;
    const three = search(system(75)).knee!.rate;
    expect(three / one).toBeGreaterThan(2.5);
    expect(three / one).toBeLessThan(3.5);
    expect(three).toBeLessThanOrEqual(75);
  });

  it('one unlucky step is run again and does not end the search', () => {
    const lucky = search(system(25));
    const unlucky = search(system(25, (i) => i === 2));
    expect(unlucky.steps.map((s) => s.rate).slice(0, 4)).toEqual([5, 7.5, 11.25, 11.25]);
    expect(unlucky.knee).toEqual(lucky.knee);
  });

  it('a system over its bounds at the first rate has no knee, and says so', () => {
    const result = search(system(2));
    expect(result.steps.map((s) => s.rate)).toEqual([5, 5]);
    expect(result.knee).toBeUndefined();
    expect(result.reason).toMatch(/^the first rate, 5\/s, was already over/);
  });

  it('stops at its limit when every rate is within bounds', () => {
    const result = search(system(1000), { ...options, maxRate: 20 });
    expect(result.steps.map((s) => s.rate)).toEqual([5, 7.5, 11.25, 16.88, 20]);
    expect(result.knee?.rate).toBe(20);
    expect(result.overRate).toBeUndefined();
    expect(result.reason).toMatch(/limit \(20\/s\)/);
  });
});
