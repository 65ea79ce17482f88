/**
 * One measure of a lab on the class's dashboard: the class's distribution as a strip plot (the
 * range as a line, the median marked, one dot per student's latest value, each with its name and
 * value as a tooltip and text alternative), the same numbers as text, and the claims the measure
 * backs with how many students' numbers support them. An SVG drawn by hand: a few circles on a line.
 */
import type { ClassLabReport } from '../../../electron/api/contract';

type Measure = ClassLabReport['measures'][number];
type Claim = ClassLabReport['claims'][number];

/** The strip's drawing box, in SVG user units. */
const WIDTH = 320;
const HEIGHT = 52;
const PAD = 18;

function studentText(v: Measure['values'][number]): string {
  return v.id ? `${v.student} (${v.id})` : v.student;
}

/** "3 workloads", "1 request". */
function valueText(value: number, unit: string): string {
  return unit ? `${value} ${unit}` : String(value);
}

export function spreadText(m: Measure): string {
  const s = m.spread;
  if (!s.n || s.median === null) return 'not measured yet';
  return `median ${s.median} (range ${s.min}–${s.max}, ${s.n} student${s.n === 1 ? '' : 's'})`;
}

/** "supported by 2 of 3 students who measured it (1 contradicts it; 4 did not measure it)". */
export function supportText(c: Claim): string {
  const measured = c.supported + c.notSupported;
  if (!measured) return `not measured by any student yet`;
  return (
    `supported by ${c.supported} of ${measured} student${measured === 1 ? '' : 's'} who measured it` +
    (c.notSupported ? ` (${c.notSupported} contradict${c.notSupported === 1 ? 's' : ''} it)` : '')
  );
}

/** The strip plot of a measure's values; nothing when nobody measured it. */
export function StripPlot({ m }: { m: Measure }) {
  const { min, max, median } = m.spread;
  if (!m.values.length || min === null || max === null || median === null) return null;
  // One value for everyone: the strip is centred on it.
  const lo = min === max ? min - 1 : min;
  const hi = min === max ? max + 1 : max;
  const x = (v: number) => PAD + ((v - lo) / (hi - lo)) * (WIDTH - 2 * PAD);
  const mid = 20;
  // Students of the same value are set a little apart (five rows, then again) so dots show.
  const seen = new Map<number, number>();
  const dy = (v: number) => {
    const k = seen.get(v) ?? 0;
    seen.set(v, k + 1);
    return (k % 2 ? 1 : -1) * Math.ceil((k % 5) / 2) * 6;
  };
  return (
    <svg
      className="class-strip"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      width={WIDTH}
      height={HEIGHT}
      role="group"
      aria-label={`${m.label}: ${spreadText(m)}`}
    >
      <line className="class-strip-range" x1={x(min)} x2={x(max)} y1={mid} y2={mid} />
      <line className="class-strip-median" x1={x(median)} x2={x(median)} y1={mid - 12} y2={mid + 12}>
        <title>{`median ${valueText(median, m.unit)}`}</title>
      </line>
      {/* The range's ends under the line (the same numbers are in the text above: hidden from readers). */}
      <text className="class-strip-end" x={x(min)} y={HEIGHT - 2} textAnchor="middle" aria-hidden="true">
        {min}
      </text>
      {max !== min && (
        <text className="class-strip-end" x={x(max)} y={HEIGHT - 2} textAnchor="middle" aria-hidden="true">
          {max}
        </text>
      )}
      {m.values.map((v, i) => {
        const label = `${studentText(v)}: ${valueText(v.value, m.unit)}`;
        return (
          <circle
            key={i}
            className="class-strip-dot"
            data-student={v.student}
            cx={x(v.value)}
            cy={mid + dy(v.value)}
            r={4}
            role="img"
            aria-label={label}
          >
            <title>{label}</title>
          </circle>
        );
      })}
    </svg>
  );
}

/** A measure's line on the dashboard: its numbers in words, its strip, each student's value, its claims. */
export function ClassMeasure({ m, claims }: { m: Measure; claims: Claim[] }) {
  const backs = claims.filter((c) => c.measures.includes(m.id));
  return (
    <li className="class-measure" data-measure={m.id}>
      <div>
        {m.label}
        {m.unit ? ` (${m.unit})` : ''}: {spreadText(m)}
      </div>
      <StripPlot m={m} />
      {m.values.length > 0 && (
        <details className="class-measure-values">
          <summary>Each student&apos;s number</summary>
          <ul>
            {m.values.map((v, i) => (
              <li key={i}>
                {studentText(v)}: {valueText(v.value, m.unit)}
              </li>
            ))}
          </ul>
        </details>
      )}
      {backs.length > 0 && (
        <ul className="class-measure-claims">
          {backs.map((c) => (
            <li key={c.text} data-claim={c.text}>
              “{c.text}”: {supportText(c)}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
