/**
 * The policy language: a YAML file of segments (groups of workloads chosen by selector labels
 * or by name) and rules (from, to, ports, action, priority), with a default action and a
 * mode. Parsing keeps positions, so every problem is reported as file:line:column and what
 * is wrong; a policy that does not validate is never applied.
 *
 *   mode: enforce            # off | monitor | enforce
 *   defaultAction: deny      # allow | deny | reject
 *   segments:
 *     web: { selector: { tier: web } }
 *     db:  { selector: { tier: db }, mode: monitor }   # roll out one segment at a time
 *     ops: { workloads: [admin] }
 *   rules:
 *     - id: web-to-api
 *       from: { segment: web }             # or any, { selector: {...} }, { workload: name }, or a list
 *       to: { segment: api }
 *       ports: [8080, "9000-9100/tcp", "53/udp"]   # omitted: every port and protocol
 *       action: allow
 *       priority: 100                      # lower first; first match wins; deny beats allow at a tie
 *       log: true                          # false: keep this rule's flows out of the flow log
 *
 * Names and ids end up in nftables comments and shell arguments, so only safe identifiers are
 * accepted: nothing in a policy can inject into either.
 */
import { z } from 'zod';
import { ApiError } from '../errors';
import type { Protocol } from '../topology/workload';
import type { FileIssue, PathIssue, YamlFormat } from '../yaml-file';
import { readYaml, sortIssues } from '../yaml-file';
import { ACTIONS, MODES } from './vocabulary';
import type { Action, Mode } from './vocabulary';

/** Larger policy files are refused before parsing. */
export const MAX_POLICY_BYTES = 256 * 1024;
export const MAX_RULES = 1000;
export const MAX_SEGMENTS = 200;

/** The id the default action is reported under, so no policy rule may take it. (The compiler's
 * own rules start with "_", which a rule id cannot.) */
export const RESERVED_IDS = ['default'] as const;

const IDENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const RULE_ID = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;
const PORT_TEXT = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp))?$/;

const identifier = (what: string) =>
  z.string({ error: `${what} is a name (letters, digits, _ . -)` }).regex(IDENT, {
    error: (issue) =>
      `${what} ${JSON.stringify(issue.input)} is not a safe name (letters, digits, _ . -, at most 63, starting with a letter or digit)`,
  });

/** Free text of at most `max` characters. */
const text = (max: number) =>
  z
    .string({ error: 'a description is text' })
    .max(max, { error: `a description is at most ${max} characters` });

/**
 * A port number as text, 1-65535, for the JSON Schema: there the pattern itself keeps ports in
 * range, where the validator checks the numbers after the pattern matched (parsePort) and says
 * which one is out of range.
 */
const PORT_NUMBER =
  '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';
const PORT_TEXT_SCHEMA = `^${PORT_NUMBER}(?:-${PORT_NUMBER})?(?:/(?:tcp|udp))?$`;

export { ACTIONS, MODES };
export type { Action, Mode };

const ModeSchema = z.enum(MODES, { error: `mode is one of ${MODES.join(', ')}` });
const ActionSchema = z.enum(ACTIONS, {
  error: (issue) =>
    issue.input === undefined
      ? 'a rule needs "action": allow, deny or reject'
      : 'action is one of allow, deny, reject',
});

const Selector = z
  .record(identifier('label key'), identifier('label value'), {
    error: 'a selector is a map of labels, e.g. { tier: db }',
  })
  .refine((s) => Object.keys(s).length > 0, 'a selector needs at least one label')
  .meta({
    description: 'Workloads whose selector labels all have these values (io.microlab.label.<key>).',
    minProperties: 1,
  });

const SegmentSchema = z
  .strictObject(
    {
      description: text(500).optional(),
      selector: Selector.optional(),
      workloads: z
        .array(identifier('workload name'), { error: 'workloads is a list of workload names' })
        .min(1, { error: 'a list of workloads needs at least one name' })
        .max(500, { error: 'a segment lists at most 500 workloads' })
        .optional()
        .meta({ description: 'Workloads by name (io.microlab.workload).' }),
      mode: ModeSchema.optional().meta({
        description: "Overrides the policy's mode for this segment's workloads.",
      }),
    },
    { error: 'a segment is a map: { selector: {...} } or { workloads: [...] }, and optionally mode' },
  )
  .refine((s) => s.selector !== undefined || s.workloads !== undefined, {
    error: 'a segment needs a selector or a list of workloads',
  })
  // For the JSON Schema: a segment without a selector needs its list of workloads.
  .meta({ if: { not: { required: ['selector'] } }, then: { required: ['workloads'] } });

const PeerSchema = z
  .union([
    z.literal('any'),
    z.strictObject({ segment: identifier('segment name') }),
    z.strictObject({ selector: Selector }),
    z.strictObject({ workload: identifier('workload name') }),
  ])
  .meta({ description: 'any, { segment: NAME }, { selector: { KEY: VALUE } } or { workload: NAME }' });

const peers = (side: 'from' | 'to') =>
  z.union([
    PeerSchema,
    z
      .array(PeerSchema)
      .min(1, { error: `"${side}" needs at least one peer (use any for every peer)` })
      .max(100, { error: `"${side}" lists at most 100 peers` }),
  ]);

const PortSchema = z
  .union([
    z
      .int()
      .min(1, { error: (issue) => `port ${String(issue.input)} is out of range 1-65535` })
      .max(65535, { error: (issue) => `port ${String(issue.input)} is out of range 1-65535` }),
    z
      .string()
      .regex(PORT_TEXT, {
        error: (issue) =>
          `port ${JSON.stringify(issue.input)} is not 8080, "8080/tcp" or a range "9000-9100/udp"`,
      })
      .meta({ pattern: PORT_TEXT_SCHEMA }),
  ])
  .meta({ description: 'A port (1-65535) or a range, tcp unless "/udp": 8080, "8080/udp", "9000-9100"' });

const requiredIn =
  (field: string, what: string) =>
  (issue: { input: unknown }): string =>
    issue.input === undefined ? `a rule needs "${field}"` : what;

const RuleSchema = z.strictObject(
  {
    id: z
      .string({ error: requiredIn('id', 'a rule id is a name (letters, digits, _ . -)') })
      .regex(RULE_ID, {
        error: (issue) =>
          `rule id ${JSON.stringify(issue.input)} is not a safe id (letters, digits, _ . -, at most 63, starting with a letter)`,
      })
      .meta({ not: { enum: [...RESERVED_IDS] } }),
    description: text(500).optional(),
    from: peers('from'),
    to: peers('to'),
    ports: z
      .array(PortSchema, { error: 'ports is a list of ports, e.g. [8080, "53/udp"]' })
      .min(1, { error: 'list the ports the rule is about, or leave "ports" out for every port' })
      .max(100, { error: 'a rule lists at most 100 ports' })
      .optional()
      .meta({ description: 'Omitted: every port and protocol.' }),
    action: ActionSchema,
    priority: z
      .int({ error: 'priority is a whole number from 0 to 1000000 (lower first)' })
      .min(0, { error: 'priority is a whole number from 0 to 1000000 (lower first)' })
      .max(1_000_000, { error: 'priority is a whole number from 0 to 1000000 (lower first)' })
      .default(1000),
    log: z.boolean({ error: 'log is true or false' }).default(true),
  },
  { error: 'a rule is a map: { id, from, to, ports, action, priority }' },
);

export const PolicySchema = z
  .strictObject(
    {
      $schema: z.string({ error: '$schema is the path of policy.schema.json' }).max(500).optional(),
      name: identifier('policy name').optional(),
      description: text(2000).optional(),
      mode: ModeSchema.default('enforce'),
      defaultAction: ActionSchema.default('deny'),
      segments: z
        .record(identifier('segment name'), SegmentSchema, {
          error: 'segments is a map of segment names to segments',
        })
        .default({}),
      rules: z
        .array(RuleSchema, { error: 'rules is a list of rules' })
        .max(MAX_RULES, { error: `a policy has at most ${MAX_RULES} rules` })
        .default([]),
    },
    { error: 'a policy is a map of fields: mode, defaultAction, segments, rules, name, description' },
  )
  .meta({
    title: 'MicroLab segment firewall policy',
    description:
      'Checked in full by `microlab policy validate` (and the editor, through it): references between parts of the file (rule peers naming segments, unique rule ids, port ranges running forwards and not overlapping in a rule) are beyond this schema.',
  });

/** Anything the schema above did not word itself, in the policy's own terms (never zod's defaults). */
function fallbackMessage(issue: z.core.$ZodRawIssue): string {
  const where = issue.path?.length ? `"${issue.path.join('.')}"` : 'the policy';
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `${where} is missing` : `${where} should be ${issue.expected}`;
    case 'too_small':
      return `${where} is too short (at least ${String(issue.minimum)})`;
    case 'too_big':
      return `${where} is too long (at most ${String(issue.maximum)})`;
    default:
      return `${where} is not valid here`;
  }
}

export type PolicyInput = z.input<typeof PolicySchema>;

// ---------------------------------------------------------------------------------------
// The normalized policy the evaluator and the compiler work on

export type Peer =
  | { kind: 'any' }
  | { kind: 'segment'; segment: string }
  | { kind: 'selector'; selector: Record<string, string> }
  | { kind: 'workload'; workload: string };

export interface PortRange {
  protocol: Protocol;
  from: number;
  to: number;
}

export interface Rule {
  id: string;
  description?: string;
  from: Peer[];
  to: Peer[];
  /** Undefined: every port and protocol. */
  ports?: PortRange[];
  action: Action;
  priority: number;
  log: boolean;
  /** Position in the file, the last tie-breaker. */
  index: number;
}

export interface Segment {
  name: string;
  selector?: Record<string, string>;
  workloads: string[];
  mode?: Mode;
}

export interface Policy {
  name?: string;
  mode: Mode;
  defaultAction: Action;
  segments: Segment[];
  /** In evaluation order: priority, then deny/reject before allow, then file order. */
  rules: Rule[];
}

/** One problem in a policy file, at file:line:column (yaml-file.ts). */
export type PolicyIssue = FileIssue;

export class PolicyError extends ApiError {
  readonly issues: PolicyIssue[];

  constructor(issues: PolicyIssue[]) {
    const sorted = sortIssues(issues);
    super(
      'policy-invalid',
      sorted.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'),
      'Fix the policy file; the policy in force stays as it was.',
    );
    this.name = 'PolicyError';
    this.issues = sorted;
  }
}

export function parsePort(entry: number | string): PortRange | string {
  if (typeof entry === 'number') return { protocol: 'tcp', from: entry, to: entry };
  const m = PORT_TEXT.exec(entry);
  if (!m) return `port ${JSON.stringify(entry)} is not 8080, "8080/tcp" or a range "9000-9100/udp"`;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  for (const p of [from, to]) if (p < 1 || p > 65535) return `port ${p} is out of range 1-65535`;
  if (to < from) return `port range ${from}-${to} runs backwards`;
  return { protocol: (m[3] ?? 'tcp') as Protocol, from, to };
}

export function formatPortRange(r: PortRange): string {
  return `${r.from === r.to ? r.from : `${r.from}-${r.to}`}/${r.protocol}`;
}

const ACTION_RANK: Record<Action, number> = { deny: 0, reject: 0, allow: 1 };

/** Sorts rules into evaluation order: lower priority first, deny/reject before allow at a tie, then file order. */
export function orderRules(rules: Rule[]): Rule[] {
  return [...rules].sort(
    (a, b) => a.priority - b.priority || ACTION_RANK[a.action] - ACTION_RANK[b.action] || a.index - b.index,
  );
}

type RawPolicy = z.output<typeof PolicySchema>;
type RawPeer = z.output<typeof PeerSchema>;

function toPeer(raw: RawPeer): Peer {
  if (raw === 'any') return { kind: 'any' };
  if ('segment' in raw) return { kind: 'segment', segment: raw.segment };
  if ('selector' in raw) return { kind: 'selector', selector: raw.selector };
  return { kind: 'workload', workload: raw.workload };
}

/** Checks what the schema cannot: references, port overlaps, unique ids. */
function semanticIssues(raw: RawPolicy): PathIssue[] {
  const issues: PathIssue[] = [];
  const segments = new Set(Object.keys(raw.segments));
  if (segments.size > MAX_SEGMENTS)
    issues.push({ path: ['segments'], message: `too many segments (at most ${MAX_SEGMENTS})` });
  const ids = new Map<string, number>();
  raw.rules.forEach((rule, i) => {
    if ((RESERVED_IDS as readonly string[]).includes(rule.id))
      issues.push({ path: ['rules', i, 'id'], message: `rule id "${rule.id}" is reserved` });
    const first = ids.get(rule.id);
    if (first !== undefined)
      issues.push({
        path: ['rules', i, 'id'],
        message: `rule id "${rule.id}" is used twice (first by rule ${first + 1})`,
      });
    else ids.set(rule.id, i);
    for (const side of ['from', 'to'] as const) {
      const peers = rule[side];
      const list = Array.isArray(peers) ? peers : [peers];
      list.forEach((peer, j) => {
        if (peer !== 'any' && 'segment' in peer && !segments.has(peer.segment)) {
          const path = Array.isArray(peers)
            ? ['rules', i, side, j, 'segment']
            : ['rules', i, side, 'segment'];
          issues.push({
            path,
            message: `unknown segment "${peer.segment}"${segments.size ? ` (segments: ${[...segments].join(', ')})` : ' (the policy defines no segments)'}`,
          });
        }
      });
    }
    const seen: { range: PortRange; j: number }[] = [];
    rule.ports?.forEach((entry, j) => {
      const range = parsePort(entry);
      if (typeof range === 'string') {
        issues.push({ path: ['rules', i, 'ports', j], message: range });
        return;
      }
      const clash = seen.find(
        (s) => s.range.protocol === range.protocol && s.range.from <= range.to && range.from <= s.range.to,
      );
      if (clash)
        issues.push({
          path: ['rules', i, 'ports', j],
          message: `port ${formatPortRange(range)} overlaps ${formatPortRange(clash.range)} in the same rule`,
        });
      seen.push({ range, j });
    });
  });
  return issues;
}

function normalize(raw: RawPolicy): Policy {
  const rules: Rule[] = raw.rules.map((r, index) => ({
    id: r.id,
    ...(r.description ? { description: r.description } : {}),
    from: (Array.isArray(r.from) ? r.from : [r.from]).map(toPeer),
    to: (Array.isArray(r.to) ? r.to : [r.to]).map(toPeer),
    ...(r.ports ? { ports: r.ports.map((p) => parsePort(p) as PortRange) } : {}),
    action: r.action,
    priority: r.priority,
    log: r.log,
    index,
  }));
  return {
    ...(raw.name ? { name: raw.name } : {}),
    mode: raw.mode,
    defaultAction: raw.defaultAction,
    segments: Object.entries(raw.segments).map(([name, s]) => ({
      name,
      ...(s.selector ? { selector: s.selector } : {}),
      workloads: s.workloads ?? [],
      ...(s.mode ? { mode: s.mode } : {}),
    })),
    rules: orderRules(rules),
  };
}

function fieldHint(path: (string | number)[]): string {
  const where = path.filter((p) => typeof p === 'string');
  const last = where.at(-1);
  if (path.length === 0) return ' (fields: mode, defaultAction, segments, rules, name, description)';
  if (where[0] === 'rules' && (last === 'from' || last === 'to'))
    return ' (a peer is any, { segment }, { selector } or { workload })';
  if (where[0] === 'rules' && path.length === 2)
    return ' (fields: id, from, to, ports, action, priority, log, description)';
  if (where[0] === 'segments' && path.length === 2)
    return ' (fields: selector, workloads, mode, description)';
  return '';
}

function unionMessage(path: (string | number)[]): string {
  const where = path.filter((p) => typeof p === 'string');
  if (where.at(-1) === 'ports' || where.at(-2) === 'ports')
    return 'a port is a number 1-65535 or a text like "8080/tcp" or "9000-9100/udp"';
  if (where.includes('from') || where.includes('to'))
    return 'a peer is any, { segment: NAME }, { selector: { KEY: VALUE } } or { workload: NAME }, or a list of them';
  return 'not a valid value here';
}

/** A policy file: its schema, limits, words, and the checks beyond the schema. */
export const POLICY_FORMAT: YamlFormat<typeof PolicySchema> = {
  schema: PolicySchema,
  maxBytes: MAX_POLICY_BYTES,
  noun: 'a policy',
  empty: 'the policy is empty',
  error: fallbackMessage,
  check: semanticIssues,
  fieldHint,
  unionMessage,
};

/**
 * Parses and validates a policy. Throws a PolicyError listing every problem with its
 * position; returns the normalized policy otherwise.
 */
export function parsePolicy(text: string, file = 'policy.yaml'): Policy {
  const read = readYaml(text, file, POLICY_FORMAT);
  if (!read.ok) throw new PolicyError(read.issues);
  return normalize(read.value);
}

/** The JSON Schema editors use to complete and check policy files. */
export function policyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PolicySchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
