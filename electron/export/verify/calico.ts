/**
 * Calico's policy model as its documentation states it (docs.tigera.io, "Get started with
 * policy tiers", NetworkPolicy and Rule references), for proofs without a cluster:
 *   - tiers are visited in ascending `order`; in a tier, the policies that select the endpoint
 *     (in its namespace, enforced kinds only: a Staged policy enforces nothing) in ascending
 *     `order`, then name; each policy's rules for the direction in order;
 *   - the first Allow or Deny decides; Log records and goes on; Pass leaves the tier;
 *   - a tier with a policy selecting the endpoint and no rule deciding ends in the tier's
 *     default action (Deny unless set to Pass); an endpoint no policy selects is allowed;
 *   - a connection needs egress at the source and ingress at the destination;
 *   - a rule's source and destination: `selector` (Calico's selector language), with
 *     `namespaceSelector`, or else within the policy's namespace; no selector: anything;
 *     `ports` numbers or "from:to" ranges, for the rule's protocol.
 */
import type { Cluster, Flow, Pod } from './cluster';

// ------------------------------------------------------------------------------
// Calico's selector language: ==, !=, in { }, not in { }, has(k), !has(k), all(), !, &&, ||, ( )

type Expr = (labels: Record<string, string>) => boolean;

const parsed = new Map<string, Expr>();

/** Parses a Calico selector into a predicate over labels (once per text); throws on what it does not know. */
export function parseSelector(text: string): Expr {
  let e = parsed.get(text);
  if (!e) {
    e = parseSelectorText(text);
    parsed.set(text, e);
  }
  return e;
}

function parseSelectorText(text: string): Expr {
  const tokens = text.match(/\s*(\|\||&&|==|!=|!|\(|\)|\{|\}|,|'[^']*'|"[^"]*"|[A-Za-z0-9_./-]+)\s*/g);
  if (!tokens || tokens.join('').replace(/\s/g, '') !== text.replace(/\s/g, ''))
    throw new Error(`cannot read selector ${JSON.stringify(text)}`);
  const ts = tokens.map((t) => t.trim());
  let i = 0;
  const peek = () => ts[i];
  const next = () => ts[i++];
  const expect = (t: string) => {
    if (next() !== t) throw new Error(`selector ${JSON.stringify(text)}: expected ${t}`);
  };
  const value = () => {
    const t = next() ?? '';
    if (!/^['"]/.test(t))
      throw new Error(`selector ${JSON.stringify(text)}: expected a quoted value, got ${t}`);
    return t.slice(1, -1);
  };
  const set = () => {
    expect('{');
    const values: string[] = [];
    while (peek() !== '}') {
      values.push(value());
      if (peek() === ',') next();
    }
    expect('}');
    return values;
  };
  const or = (): Expr => {
    let left = and();
    while (peek() === '||') {
      next();
      const l = left;
      const r = and();
      left = (x) => l(x) || r(x);
    }
    return left;
  };
  const and = (): Expr => {
    let left = unary();
    while (peek() === '&&') {
      next();
      const l = left;
      const r = unary();
      left = (x) => l(x) && r(x);
    }
    return left;
  };
  const unary = (): Expr => {
    const t = next();
    if (t === '!') {
      const e = unary();
      return (x) => !e(x);
    }
    if (t === '(') {
      const e = or();
      expect(')');
      return e;
    }
    if (t === 'all') {
      expect('(');
      expect(')');
      return () => true;
    }
    if (t === 'has') {
      expect('(');
      const key = next()!;
      expect(')');
      return (x) => Object.prototype.hasOwnProperty.call(x, key);
    }
    const key = t ?? '';
    const op = next();
    if (op === '==') {
      const v = value();
      return (x) => x[key] === v;
    }
    if (op === '!=') {
      const v = value();
      return (x) => x[key] !== v;
    }
    if (op === 'in') {
      const vs = set();
      return (x) => x[key] !== undefined && vs.includes(x[key]!);
    }
    if (op === 'not') {
      expect('in');
      const vs = set();
      return (x) => x[key] === undefined || !vs.includes(x[key]!);
    }
    throw new Error(`selector ${JSON.stringify(text)}: unexpected ${String(op)}`);
  };
  const e = text.trim() === '' ? () => true : or();
  if (i < ts.length) throw new Error(`selector ${JSON.stringify(text)}: unexpected ${ts[i]}`);
  return e;
}

// ------------------------------------------------------------------------------

interface EntityRule {
  selector?: string;
  namespaceSelector?: string;
  ports?: (number | string)[];
  nets?: unknown;
  notSelector?: unknown;
  notPorts?: unknown;
}
interface CalicoRule {
  action: 'Allow' | 'Deny' | 'Log' | 'Pass';
  protocol?: string;
  source?: EntityRule;
  destination?: EntityRule;
}
export interface CalicoObject {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string };
  spec: {
    order?: number;
    defaultAction?: 'Deny' | 'Pass';
    tier?: string;
    selector?: string;
    types?: ('Ingress' | 'Egress')[];
    ingress?: CalicoRule[];
    egress?: CalicoRule[];
  };
}

const ENFORCED = ['NetworkPolicy', 'GlobalNetworkPolicy'];

function entityMatches(
  entity: EntityRule | undefined,
  policyNs: string | undefined,
  pod: Pod,
  cluster: Cluster,
  flow: Flow,
  isDestination: boolean,
): boolean {
  if (!entity) return true;
  if (pod.external && (entity.selector !== undefined || entity.namespaceSelector !== undefined)) return false;
  if (entity.nets !== undefined || entity.notSelector !== undefined || entity.notPorts !== undefined)
    throw new Error('nets, notSelector and notPorts are not modelled');
  if (entity.namespaceSelector !== undefined) {
    const nsLabels = {
      ...(cluster.namespaces[pod.namespace] ?? {}),
      'projectcalico.org/name': pod.namespace,
    };
    if (!parseSelector(entity.namespaceSelector)(nsLabels)) return false;
  } else if (entity.selector !== undefined && policyNs !== undefined && pod.namespace !== policyNs)
    return false;
  if (entity.selector !== undefined && !parseSelector(entity.selector)(pod.labels)) return false;
  if (entity.ports && isDestination)
    return entity.ports.some((p) => {
      if (typeof p === 'number') return p === flow.port;
      const m = /^(\d+):(\d+)$/.exec(p);
      if (!m) throw new Error(`port ${p} is not modelled`);
      return Number(m[1]) <= flow.port && flow.port <= Number(m[2]);
    });
  if (entity.ports && !isDestination) throw new Error('source ports are not modelled');
  return true;
}

function ruleMatches(rule: CalicoRule, policyNs: string | undefined, flow: Flow, cluster: Cluster): boolean {
  if (rule.protocol !== undefined && rule.protocol !== flow.protocol) return false;
  return (
    entityMatches(rule.source, policyNs, flow.src, cluster, flow, false) &&
    entityMatches(rule.destination, policyNs, flow.dst, cluster, flow, true)
  );
}

type Outcome = 'allow' | 'deny';

function direction(
  objects: CalicoObject[],
  dir: 'Ingress' | 'Egress',
  local: Pod,
  flow: Flow,
  cluster: Cluster,
): Outcome {
  // An address outside the cluster has no policy of its own.
  if (local.external) return 'allow';
  const tiers = new Map(objects.filter((o) => o.kind === 'Tier').map((t) => [t.metadata.name, t]));
  const policies = objects.filter(
    (o) =>
      ENFORCED.includes(o.kind) &&
      (o.kind === 'GlobalNetworkPolicy' || o.metadata.namespace === local.namespace) &&
      parseSelector(o.spec.selector ?? 'all()')(local.labels) &&
      (o.spec.types ?? ['Ingress']).includes(dir),
  );
  if (policies.length === 0) return 'allow';
  const tierOf = (p: CalicoObject) => p.spec.tier ?? 'default';
  const tierOrder = (name: string) =>
    tiers.get(name)?.spec.order ?? (name === 'default' ? 1_000_000 : Infinity);
  const names = [...new Set(policies.map(tierOf))].sort((a, b) => tierOrder(a) - tierOrder(b));
  for (const tier of names) {
    const inTier = policies
      .filter((p) => tierOf(p) === tier)
      .sort(
        (a, b) =>
          (a.spec.order ?? Infinity) - (b.spec.order ?? Infinity) ||
          a.metadata.name.localeCompare(b.metadata.name),
      );
    let passed = false;
    outer: for (const p of inTier) {
      for (const rule of (dir === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []) {
        if (
          !ruleMatches(
            rule,
            p.kind === 'GlobalNetworkPolicy' ? undefined : p.metadata.namespace,
            flow,
            cluster,
          )
        )
          continue;
        if (rule.action === 'Log') continue;
        if (rule.action === 'Allow') return 'allow';
        if (rule.action === 'Deny') return 'deny';
        passed = true;
        break outer;
      }
    }
    if (!passed && (tiers.get(tier)?.spec.defaultAction ?? 'Deny') === 'Deny') return 'deny';
  }
  // Passed beyond the last tier: the namespace's profile, which allows.
  return 'allow';
}

/** Whether the connection is allowed: egress at the source and ingress at the destination. */
export function calicoAllows(objects: CalicoObject[], cluster: Cluster, flow: Flow): boolean {
  return (
    direction(objects, 'Egress', flow.src, flow, cluster) === 'allow' &&
    direction(objects, 'Ingress', flow.dst, flow, cluster) === 'allow'
  );
}
