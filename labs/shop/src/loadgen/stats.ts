/**
 * Load statistics: latencies per endpoint ("GET /api/products"), reported per time window
 * (live) and in total (the summary). Pure, so it can be tested with made-up samples.
 */
export const SCENARIOS = ['browse', 'cart', 'checkout', 'account', 'search', 'signup'] as const;
export type Scenario = (typeof SCENARIOS)[number];
export type Mix = Partial<Record<Scenario, number>>;

export const DEFAULT_MIX: Mix = { browse: 10, cart: 3, checkout: 1 };

export interface EndpointStats {
  /** "GET /api/products", or "all". */
  endpoint: string;
  count: number;
  errors: number;
  /** Requests per second over the window (or the whole run). */
  rps: number;
  /** Milliseconds. */
  p50: number;
  p95: number;
  p99: number;
}

/** "browse=10,cart=3,checkout=1" -> weights. Throws on unknown scenarios or bad weights. */
export function parseMix(text: string): Mix {
  const mix: Mix = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, weight] = part.split('=');
    if (!(SCENARIOS as readonly string[]).includes(name ?? ''))
      throw new Error(`unknown scenario ${JSON.stringify(name)} (use ${SCENARIOS.join(', ')})`);
    const n = Number(weight);
    if (!Number.isInteger(n) || n < 0 || n > 1000)
      throw new Error(`weight of ${name} must be a whole number 0-1000`);
    mix[name as Scenario] = n;
  }
  if (!Object.values(mix).some((w) => w > 0))
    throw new Error('the mix needs at least one scenario with a weight');
  return mix;
}

/** Picks scenarios in proportion to their weights, deterministically: a smooth weighted round robin. */
export class MixPicker {
  private readonly current = new Map<Scenario, number>();
  private readonly entries: [Scenario, number][];
  private readonly total: number;

  constructor(mix: Mix) {
    this.entries = Object.entries(mix).filter(([, w]) => (w ?? 0) > 0) as [Scenario, number][];
    this.total = this.entries.reduce((s, [, w]) => s + w, 0);
  }

  next(): Scenario {
    let best: Scenario | undefined;
    for (const [name, weight] of this.entries) {
      const value = (this.current.get(name) ?? 0) + weight;
      this.current.set(name, value);
      if (best === undefined || value > this.current.get(best)!) best = name;
    }
    this.current.set(best!, this.current.get(best!)! - this.total);
    return best!;
  }
}

/** The nearest-rank percentile of sorted values; 0 for none. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (n: number) => Math.round(n * 10) / 10;

export function summarize(
  endpoint: string,
  latencies: number[],
  errors: number,
  seconds: number,
): EndpointStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    endpoint,
    count: latencies.length,
    errors,
    rps: seconds > 0 ? round(latencies.length / seconds) : 0,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
  };
}

interface Series {
  latencies: number[];
  errors: number;
}

/** Collects samples; `window()` returns what came since its last call, `total()` everything. */
export class Recorder {
  private all = new Map<string, Series>();
  private recent = new Map<string, Series>();

  record(endpoint: string, ms: number, ok: boolean): void {
    for (const map of [this.all, this.recent]) {
      let s = map.get(endpoint);
      if (!s) map.set(endpoint, (s = { latencies: [], errors: 0 }));
      s.latencies.push(ms);
      if (!ok) s.errors++;
    }
  }

  private static report(map: Map<string, Series>, seconds: number): EndpointStats[] {
    const rows = [...map.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([endpoint, s]) => summarize(endpoint, s.latencies, s.errors, seconds));
    const every = [...map.values()];
    rows.push(
      summarize(
        'all',
        every.flatMap((s) => s.latencies),
        every.reduce((n, s) => n + s.errors, 0),
        seconds,
      ),
    );
    return rows;
  }

  window(seconds: number): EndpointStats[] {
    const rows = Recorder.report(this.recent, seconds);
    this.recent = new Map();
    return rows;
  }

  total(seconds: number): EndpointStats[] {
    return Recorder.report(this.all, seconds);
  }
}
