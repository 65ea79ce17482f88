/**
 * A step's `measure` entries: numbers read from real state when the step passes (or is
 * solved), recorded into progress with unit and label for the lab's summary.
 *
 * Each source of a number is defined once, its fields (a zod schema) and how it is read
 * together (`MEASURE_SOURCES`); the lab format takes `MeasureSchema` from here.
 */
import { z } from 'zod';
import type { LoadReport, Measurement } from '../api/contract';
import type { LabAttacker, LabNetwork } from '../api/vocabulary';
import { attacker, cellNetwork, id, NAME, since, workload } from './fields';
import type { Snapshot } from './progress';
import { endpointsOf, packetsByRule, packetsSince } from './state';
import type { StateReader } from './state';

export interface MeasureContext {
  state: StateReader;
  stepStart: Snapshot;
  labStart: Snapshot;
  loads: LoadReport[];
  attempts: number;
  /** Measurements this lab recorded before (any step), for derived figures (`ratio`). */
  recorded?: Measurement[];
}

type Term = number | string | { measure: string; minus: string | number };

/** A ratio's term: its value and how it reads ("ms-capacity-3 − ms-capacity-1 = 42"). */
function term(t: Term, known: Map<string, Measurement>): { value: number; text: string } {
  const one = (x: string | number) => {
    if (typeof x === 'number') return x;
    const m = known.get(x);
    if (!m) throw new Error(`${x} is not recorded yet`);
    return m.value;
  };
  if (typeof t === 'number') return { value: t, text: String(t) };
  if (typeof t === 'string') return { value: one(t), text: `${t} ${one(t)}` };
  const value = one(t.measure) - one(t.minus);
  return {
    value,
    text: `(${t.measure} ${one(t.measure)} − ${typeof t.minus === 'number' ? t.minus : `${t.minus} ${one(t.minus)}`})`,
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

type Read = { value: number; source: string } & Pick<Measurement, 'attacker' | 'metric' | 'app' | 'network'>;

/** The workload a measure reads from (its `workload`, or where its `attacker` stands now), and the 2×2 tags. */
async function sourceOf(spec: Record<string, unknown>, ctx: MeasureContext) {
  if (!spec.attacker) return { workload: spec.workload as string, tags: {} };
  const attacker = spec.attacker as LabAttacker;
  const status = await ctx.state.deployment();
  return {
    workload: await ctx.state.attackerWorkload(attacker),
    tags: {
      attacker,
      ...(status.deployment ? { app: status.deployment } : {}),
      ...(spec.network ? { network: spec.network as LabNetwork } : {}),
    },
  };
}

/** A term of a ratio: a number, a measure's value, or a measure's value minus another's. */
const ratioTerm = z.union([
  z.number(),
  id('measure id'),
  z.strictObject({ measure: id('measure id'), minus: z.union([id('measure id'), z.number()]) }),
]);

/** One source of a measure: the fields of its `from: { <source>: {...} }`, and how it is read. */
interface MeasureSource<S extends z.ZodType> {
  schema: S;
  /** Reads the number; throws (with the reason) when its state cannot be read. */
  read(spec: z.output<S>, ctx: MeasureContext): Promise<Read>;
}
const measureSource = <S extends z.ZodType>(source: MeasureSource<S>): MeasureSource<S> => source;

/** Every source a measure can come from, by name. */
export const MEASURE_SOURCES = {
  'blast-radius': measureSource({
    schema: z
      .strictObject({
        workload: workload.optional(),
        attacker: attacker.optional(),
        network: cellNetwork,
        count: z.enum(['workloads', 'databases']).default('workloads'),
      })
      .refine((v) => !!v.workload !== !!v.attacker, 'name either a workload or an attacker'),
    async read(spec, ctx) {
      const { workload, tags } = await sourceOf(spec, ctx);
      const r = await ctx.state.reach(workload);
      const databases = spec.count === 'databases';
      return {
        value: databases ? r.databases.length : r.reached.length,
        source: `probes from ${workload}: ${(databases ? r.databases : r.reached).join(', ') || 'nothing'} (of ${r.total})`,
        ...tags,
        ...('attacker' in tags
          ? { metric: databases ? ('databases' as const) : ('workloads' as const) }
          : {}),
      };
    },
  }),
  'data-domains': measureSource({
    schema: z
      .strictObject({ workload: workload.optional(), attacker: attacker.optional(), network: cellNetwork })
      .refine((v) => !!v.workload !== !!v.attacker, 'name either a workload or an attacker')
      .meta({
        description:
          "the shop's data domains (catalog, cart, orders, payments, users) whose database the source reaches and can log in to with the credentials found where it stands (its environment, its user's ~/.pgpass)",
      }),
    async read(spec, ctx) {
      const { workload, tags } = await sourceOf(spec, ctx);
      const d = await ctx.state.domains(workload);
      const logins = d.logins.filter((l) => l.ok).map((l) => `${l.database} as ${l.user} (${l.source})`);
      return {
        value: d.domains.length,
        source: `${workload} found ${d.credentials.join(', ') || 'no credentials'}; reaches ${d.databases.join(', ') || 'no database'}; logged in to ${logins.join(', ') || 'none'}: ${d.domains.join(', ') || 'no domain'}`,
        ...tags,
        ...('attacker' in tags ? { metric: 'domains' as const } : {}),
      };
    },
  }),
  load: measureSource({
    schema: z.strictObject({
      endpoints: z.array(z.string().max(100)).min(1).optional(),
      except: z.array(z.string().max(100)).optional(),
      stat: z
        .enum(['errors', 'count', 'rps', 'p50', 'p95', 'p99', 'failing', 'endpoints', 'capacity', 'knee-p95'])
        .meta({
          description:
            'errors, count, rps: summed; p50, p95, p99: the worst; failing: endpoints with an error; endpoints: endpoints with a request; capacity: requests/s served at the knee of a capacity search; knee-p95: its p95 (ms)',
        }),
      run: z.enum(['first', 'last']).default('last').meta({
        description:
          "which of the step's loads: the last (default) or the first (a baseline run before a change)",
      }),
    }),
    async read(spec, ctx) {
      const report = spec.run === 'first' ? ctx.loads[0] : ctx.loads.at(-1);
      if (!report) throw new Error('no load ran in this step');
      if (spec.stat === 'capacity' || spec.stat === 'knee-p95') {
        const c = report.capacity;
        if (!c) throw new Error("the step's load was not a capacity search");
        if (!c.knee) throw new Error(`the capacity search found no rate within its bounds: ${c.reason}`);
        return {
          value: round(spec.stat === 'capacity' ? c.knee.served : c.knee.p95),
          source: `capacity search on the ${report.deployment}: ${c.knee.served} requests/s served at ${c.knee.rate}/s offered, p95 ${c.knee.p95} ms (${c.reason})`,
        };
      }
      const endpoints = endpointsOf(report, spec.endpoints, spec.except);
      if (!endpoints.length) throw new Error('the load made no request to the endpoints measured');
      const stat = spec.stat as 'errors' | 'count' | 'rps' | 'p50' | 'p95' | 'p99' | 'failing' | 'endpoints';
      if (stat === 'endpoints') {
        const used = endpoints.filter((e) => e.count > 0);
        return {
          value: used.length,
          source: `endpoints requested under load ${report.rate}/s for ${report.duration} s: ${used.map((e) => e.endpoint).join(', ') || 'none'}`,
        };
      }
      if (stat === 'failing') {
        const failing = endpoints.filter((e) => e.errors > 0);
        return {
          value: failing.length,
          source: `endpoints with errors under load ${report.rate}/s for ${report.duration} s: ${failing.map((e) => `${e.endpoint} (${e.errors} of ${e.count})`).join(', ') || 'none'}`,
        };
      }
      const value =
        stat === 'errors' || stat === 'count' || stat === 'rps'
          ? endpoints.reduce((s, e) => s + e[stat], 0)
          : Math.max(...endpoints.map((e) => e[stat]));
      return {
        value: round(value),
        source: `load ${report.rate}/s for ${report.duration} s on the ${report.deployment}: ${endpoints.map((e) => e.endpoint).join(', ')}`,
      };
    },
  }),
  ratio: measureSource({
    schema: z
      .strictObject({
        of: ratioTerm,
        per: ratioTerm,
      })
      .meta({
        description:
          'a figure derived from measures recorded before it (this lab, any step): (of - minus) / (per - minus), e.g. capacity gained per added MB',
      }),
    async read(spec, ctx) {
      const known = new Map((ctx.recorded ?? []).map((m) => [m.id, m]));
      const of = term(spec.of, known);
      const per = term(spec.per, known);
      if (per.value === 0) throw new Error(`${per.text} is 0: no ratio`);
      return { value: Math.round((of.value / per.value) * 1000) / 1000, source: `${of.text} / ${per.text}` };
    },
  }),
  memory: measureSource({
    schema: z.strictObject({
      workloads: z.array(workload).min(1).optional(),
      balancer: z.boolean().default(false).meta({
        description:
          "add the load balancer in front of the monolith's copies, when one runs (it exists because the app was scaled out)",
      }),
    }),
    async read(spec, ctx) {
      const status = await ctx.state.deployment();
      const chosen = status.workloads.filter((w) => !spec.workloads || spec.workloads.includes(w.workload));
      const balancer = spec.balancer && status.balancer?.state === 'running' ? status.balancer : undefined;
      const bytes =
        chosen.reduce((s, w) => s + (w.memoryBytes ?? 0), 0) + (balancer ? (balancer.memoryBytes ?? 0) : 0);
      const containers = [...chosen.map((w) => w.container), ...(balancer ? [balancer.container] : [])];
      return {
        value: round(bytes / 1024 / 1024),
        source: `memory of ${containers.length} container${containers.length === 1 ? '' : 's'}: ${containers.join(', ')}`,
      };
    },
  }),
  replaced: measureSource({
    schema: z.strictObject({
      since,
      workloads: z.array(workload).min(1).optional().meta({ description: 'default: every workload' }),
      except: z.array(workload).optional(),
    }),
    async read(spec, ctx) {
      const before = (spec.since === 'lab' ? ctx.labStart : ctx.stepStart).containers.filter(
        (c) =>
          (!spec.workloads || spec.workloads.includes(c.workload)) &&
          !(spec.except ?? []).includes(c.workload),
      );
      const status = await ctx.state.deployment();
      const replaced = before.filter((c) => {
        const now = status.workloads.find((w) => w.container === c.container);
        return !now || now.id !== c.id || now.startedAt !== c.startedAt;
      });
      const which = spec.workloads
        ? ` of ${spec.workloads.join(', ')}`
        : spec.except
          ? ` but ${spec.except.join(', ')}'s`
          : '';
      return {
        value: replaced.length,
        source: `containers${which} replaced or restarted since the ${String(spec.since)} started: ${replaced.map((c) => c.container).join(', ') || 'none'}`,
      };
    },
  }),
  replicas: measureSource({
    schema: z.strictObject({ workload }),
    async read(spec, ctx) {
      const status = await ctx.state.deployment();
      const n = status.workloads.filter((w) => w.workload === spec.workload).length;
      return { value: n, source: `replicas of ${String(spec.workload)}` };
    },
  }),
  counter: measureSource({
    schema: z.strictObject({ rule: z.string().regex(NAME) }),
    async read(spec, ctx) {
      const now = packetsByRule(await ctx.state.counterReport());
      return {
        value: packetsSince(now, ctx.stepStart.counters, spec.rule),
        source: `packets counted by rule ${String(spec.rule)} in this step`,
      };
    },
  }),
  attempts: measureSource({
    schema: z.strictObject({}),
    async read(spec, ctx) {
      return { value: ctx.attempts, source: 'check runs in this step' };
    },
  }),
};
export type MeasureSourceKind = keyof typeof MEASURE_SOURCES;

/** A step's `measure` entry: `{ id, label, unit, from: { <source>: {...} } }`. */
export const MeasureSchema = z.strictObject({
  id: id('measure id'),
  label: z.string().min(1).max(200),
  unit: z.string().max(30),
  from: z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    const kinds = Object.keys(value);
    const kind = kinds[0] as MeasureSourceKind;
    if (kinds.length !== 1 || !(kind in MEASURE_SOURCES)) {
      ctx.addIssue({
        code: 'custom',
        message: `a measure comes from exactly one of ${Object.keys(MEASURE_SOURCES).join(', ')}`,
      });
      return;
    }
    const result = MEASURE_SOURCES[kind].schema.safeParse(value[kind]);
    if (!result.success)
      for (const issue of result.error.issues)
        ctx.addIssue({ code: 'custom', message: issue.message, path: [kind, ...issue.path] });
  }),
});

export type LabMeasure = z.output<typeof MeasureSchema>;

/** Reads one measure from its source. */
function read(m: LabMeasure, ctx: MeasureContext): Promise<Read> {
  const kind = Object.keys(m.from)[0] as MeasureSourceKind;
  const source = MEASURE_SOURCES[kind] as MeasureSource<z.ZodType>;
  return source.read(source.schema.parse(m.from[kind]), ctx);
}

/**
 * A lab's unit as a figure of `value` reads it: a count noun written in the plural (`workloads`,
 * `databases`, `replicas`, `entries`) is singular for exactly 1 ("1 database"); units that are not
 * plain words (`ms`, `requests/s`, `MiB`) stay as written.
 */
export function unitFor(value: number, unit: string): string {
  if (value !== 1 || !/^[a-z]{3,}s$/.test(unit)) return unit;
  if (/ies$/.test(unit)) return `${unit.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/.test(unit)) return unit.slice(0, -2);
  return unit.slice(0, -1);
}

/** Reads every measure; one that cannot be read is left out and named in `missing`. */
export async function takeMeasures(
  measures: LabMeasure[],
  ctx: MeasureContext,
): Promise<{ measurements: Measurement[]; missing: string[] }> {
  const measurements: Measurement[] = [];
  const missing: string[] = [];
  for (const m of measures) {
    try {
      // A ratio may use a figure measured a moment ago in this very step.
      const { value, ...rest } = await read(m, {
        ...ctx,
        recorded: [...(ctx.recorded ?? []), ...measurements],
      });
      measurements.push({
        id: m.id,
        label: m.label,
        unit: unitFor(value, m.unit),
        value,
        ...rest,
        at: new Date().toISOString(),
      });
    } catch (err) {
      missing.push(`${m.label}: ${(err as Error).message}`);
    }
  }
  return { measurements, missing };
}
