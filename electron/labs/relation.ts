/**
 * The relation a claim's numbers must show, written in the lab file as a short expression over
 * measure ids and numbers, and judged against the student's own measurements:
 *
 *   holds: ["blast-after < blast-before", "upgrade-errors == 0", "ms-gain >= 2 * mono-gain"]
 *
 * Grammar: `TERM OP TERM`, OP one of `<`, `<=`, `>`, `>=`, `==`, `!=`; a TERM is a measure id
 * (or LAB.MEASURE, another lab's: the same attacker in another cell of the 2×2) or a number,
 * optionally scaled (`2 * mono-gain`, `0.5 * x`). Pure: no I/O.
 *
 * A claim is **supported** when every relation holds on the student's numbers, **not supported**
 * when one is measured and fails, and **not measured** while a measure it names is missing.
 */

export const RELATION_OPERATORS = ['<=', '>=', '==', '!=', '<', '>'] as const;
export type RelationOperator = (typeof RELATION_OPERATORS)[number];

/** `factor * measure` or a plain number (measure absent). */
export interface Term {
  factor: number;
  measure?: string;
}

export interface Relation {
  text: string;
  left: Term;
  op: RelationOperator;
  right: Term;
}

/** A measure id, or LAB.MEASURE for another lab's (read from that lab's progress). */
const ID = /^([a-z0-9][a-z0-9-]{0,62}\.)?[a-z0-9][a-z0-9-]{0,62}$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

function parseTerm(raw: string, text: string): Term {
  const t = raw.trim();
  if (NUMBER.test(t)) return { factor: Number(t) };
  if (ID.test(t)) return { factor: 1, measure: t };
  const scaled = /^(-?\d+(?:\.\d+)?)\s*\*\s*((?:[a-z0-9][a-z0-9-]{0,62}\.)?[a-z0-9][a-z0-9-]{0,62})$/.exec(t);
  if (scaled) return { factor: Number(scaled[1]), measure: scaled[2]! };
  throw new Error(
    `"${text}": "${t}" is neither a measure id, a number, nor NUMBER * MEASURE (e.g. "2 * mono-gain")`,
  );
}

/** Parses one relation; throws an Error whose message quotes the text and says what is wrong. */
export function parseRelation(text: string): Relation {
  const match = /^(.+?)\s*(<=|>=|==|!=|<|>)\s*(.+)$/.exec(text.trim());
  if (!match)
    throw new Error(
      `"${text}" is not a relation: write LEFT OP RIGHT with OP one of ${RELATION_OPERATORS.join(' ')}`,
    );
  const [, left, op, right] = match;
  if (/(<=|>=|==|!=|<|>)/.test(right!))
    throw new Error(`"${text}" has more than one operator: write one relation per entry`);
  return {
    text: text.trim(),
    left: parseTerm(left!, text),
    op: op as RelationOperator,
    right: parseTerm(right!, text),
  };
}

/** The measure ids a relation names. */
export function measuresOf(r: Relation): string[] {
  return [r.left.measure, r.right.measure].filter((m): m is string => !!m);
}

export type Verdict = 'supported' | 'not-supported' | 'not-measured';

/** One relation judged: the values it compared (absent while not measured). */
export interface RelationResult {
  text: string;
  holds: boolean | null;
  left?: number;
  right?: number;
  /** Measure ids it names that were not recorded. */
  missing: string[];
}

function compare(a: number, op: RelationOperator, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

/** Judges one relation against recorded values by measure id. */
export function judge(r: Relation, values: ReadonlyMap<string, number>): RelationResult {
  const missing = measuresOf(r).filter((m) => !values.has(m));
  if (missing.length) return { text: r.text, holds: null, missing };
  const value = (t: Term) => t.factor * (t.measure ? values.get(t.measure)! : 1);
  const left = value(r.left);
  const right = value(r.right);
  return { text: r.text, holds: compare(left, r.op, right), left, right, missing };
}

/** A claim's verdict from its relations: not measured wins over not supported only while nothing failed. */
export function verdictOf(results: { holds: boolean | null }[], measuresRecorded: boolean): Verdict {
  if (results.some((r) => r.holds === false)) return 'not-supported';
  if (!measuresRecorded || results.some((r) => r.holds === null)) return 'not-measured';
  return 'supported';
}
