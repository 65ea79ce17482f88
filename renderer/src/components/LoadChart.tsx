import type { LoadUpdate } from '../../../electron/api/contract';

const W = 560;
const H = 180;
const PAD = { left: 44, right: 44, top: 22, bottom: 24 };

/**
 * Requests and errors per second (bars, left axis) and p50/p95/p99 of all endpoints (lines,
 * right axis), one point per second of the run. Plain SVG, styled by class (the CSP forbids
 * inline style attributes in markup).
 */
export function LoadChart({ updates }: { updates: LoadUpdate[] }) {
  const points = updates.map((u) => {
    const all = u.window.find((w) => w.endpoint === 'all');
    return {
      t: u.elapsed,
      rps: all?.rps ?? 0,
      errors: all?.errors ?? 0,
      p50: all?.p50 ?? 0,
      p95: all?.p95 ?? 0,
      p99: all?.p99 ?? 0,
    };
  });
  const duration = Math.max(updates[0]?.duration ?? 1, ...points.map((p) => p.t));
  const maxRps = niceMax(Math.max(1, ...points.map((p) => p.rps)));
  const maxMs = niceMax(Math.max(1, ...points.map((p) => p.p99)));
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (t: number) => PAD.left + (t / duration) * iw;
  const yr = (v: number) => PAD.top + ih - (v / maxRps) * ih;
  const ym = (v: number) => PAD.top + ih - (v / maxMs) * ih;
  const barW = Math.max(2, (iw / Math.max(duration, 1)) * 0.7);
  const line = (key: 'p50' | 'p95' | 'p99') =>
    points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${ym(p[key]).toFixed(1)}`).join(' ');
  const last = points.at(-1)!;

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Requests per second and latency over time">
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line
              className="chart-grid"
              x1={PAD.left}
              x2={W - PAD.right}
              y1={yr(maxRps * f)}
              y2={yr(maxRps * f)}
            />
            <text className="chart-axis" x={PAD.left - 6} y={yr(maxRps * f) + 4} textAnchor="end">
              {Math.round(maxRps * f)}
            </text>
            <text className="chart-axis" x={W - PAD.right + 6} y={ym(maxMs * f) + 4}>
              {Math.round(maxMs * f)}
            </text>
          </g>
        ))}
        <text className="chart-axis chart-axis-title" x={PAD.left - 6} y={PAD.top - 8} textAnchor="end">
          req/s
        </text>
        <text className="chart-axis chart-axis-title" x={W - PAD.right + 6} y={PAD.top - 8}>
          ms
        </text>
        <text className="chart-axis" x={PAD.left} y={H - 6}>
          0 s
        </text>
        <text className="chart-axis" x={W - PAD.right} y={H - 6} textAnchor="end">
          {Math.round(duration)} s
        </text>
        {points.map((p) => (
          <g key={p.t}>
            <rect
              className="chart-rps"
              x={x(p.t) - barW}
              y={yr(p.rps)}
              width={barW}
              height={yr(0) - yr(p.rps)}
            />
            {p.errors > 0 && (
              <rect
                className="chart-errors"
                x={x(p.t) - barW}
                y={yr(p.errors)}
                width={barW}
                height={yr(0) - yr(p.errors)}
              />
            )}
          </g>
        ))}
        <path className="chart-line chart-p50" d={line('p50')} />
        <path className="chart-line chart-p95" d={line('p95')} />
        <path className="chart-line chart-p99" d={line('p99')} />
      </svg>
      <figcaption className="legend">
        <span className="legend-item chart-key chart-key-rps">{last.rps.toFixed(1)} req/s</span>
        <span className="legend-item chart-key chart-key-errors">{last.errors} errors</span>
        <span className="legend-item chart-key chart-key-p50">p50 {ms(last.p50)}</span>
        <span className="legend-item chart-key chart-key-p95">p95 {ms(last.p95)}</span>
        <span className="legend-item chart-key chart-key-p99">p99 {ms(last.p99)}</span>
      </figcaption>
    </figure>
  );
}

/** 4.2 ms, 162 ms: as the report table writes them. */
export function ms(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

function niceMax(v: number): number {
  const pow = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * pow >= v) return m * pow;
  return 10 * pow;
}
