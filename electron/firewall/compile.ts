/**
 * The compiler: a policy and the running workload instances -> one nftables table per
 * instance, loaded into that instance's network namespace. Pure text in, text out.
 *
 * Each table is our own (`table inet microlab`): Docker keeps its DNS NAT rules in the same
 * namespace, so nothing here flushes the ruleset. A table file replaces the previous one in a
 * single `nft -f` transaction (create-if-missing, delete, define), so there is never a moment
 * without rules.
 *
 * Chains:
 *   ingress / egress  input/output filter: loopback and the engine's resolver (Docker's
 *                     127.0.0.11; Podman's on each network's gateway, port 53 only),
 *                     established and related, then the mark that traces a new connection
 *                     for `nft monitor trace` (which the flow log reads), then the policy's
 *                     rules in evaluation order, then the default
 *
 * The mark comes after the builtins, inside the deciding chain: what the flow log never shows
 * (loopback, name lookups, packets of known connections) is never traced, and a traced packet
 * is printed from the chain that decides it (three lines for a new connection, instead of
 * eight or more from chains of its own and Docker's NAT chains). At saturation the trace lines,
 * which the engine writes to the firewall containers' logs, cost the shop throughput.
 *
 * Every rule has a counter and a comment "<rule id> <action>[ audit][ nolog]", which the flow
 * log and the counters read back. In monitor mode a would-be denial is accepted with "audit".
 */
import type { Protocol, WorkloadInstance } from '../topology/workload';
import { modeOf, peersMatch } from './evaluate';
import type { Action, Mode, Peer, Policy, PortRange, Rule } from './policy';

export const TABLE = 'microlab';
/** Docker's embedded DNS resolver, inside every container on a user-defined network. */
export const DOCKER_DNS = '127.0.0.11';

/** Marks a new connection for `nft monitor trace` (the flow log); placed after the builtins. */
export const TRACE_NEW = 'ct state new meta nftrace set 1';

/** The compiler's own rules (comments), next to the policy's rule ids. */
export const BUILTIN = {
  loopback: '_loopback',
  dns: '_dns',
  established: '_established',
  invalid: '_invalid',
} as const;

export interface CompiledTable {
  containerId: string;
  workload: string;
  mode: Mode;
  /** The whole `nft -f` file. */
  text: string;
}

export interface RuleComment {
  id: string;
  action: Action | 'builtin';
  audit: boolean;
  log: boolean;
}

export function ruleComment(id: string, action: Action, { audit = false, log = true } = {}): string {
  return `${id} ${action}${audit ? ' audit' : ''}${log ? '' : ' nolog'}`;
}

/** Reads a rule comment back; builtin rules ("loopback", "established"...) have no action. */
export function parseRuleComment(comment: string): RuleComment | undefined {
  const [id, action, ...flags] = comment.trim().split(/\s+/);
  if (!id) return undefined;
  if (action === undefined) return { id, action: 'builtin', audit: false, log: false };
  if (action !== 'allow' && action !== 'deny' && action !== 'reject') return undefined;
  return { id, action, audit: flags.includes('audit'), log: !flags.includes('nolog') };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function addressesOf(instance: WorkloadInstance): string[] {
  return Object.values(instance.addresses).filter((a) => IPV4.test(a));
}

/** The header that makes a table file replace whatever table of ours is loaded, atomically. */
function replaceHeader(): string[] {
  return [`table inet ${TABLE} {}`, `delete table inet ${TABLE}`];
}

/**
 * DNS to the engine's resolvers outside the namespace (Podman's aardvark-dns on each network's
 * gateway, see WorkloadInstance.resolvers), udp and tcp port 53 only; none on Docker.
 */
function resolverRules(resolvers: string[] | undefined): string[] {
  const addresses = (resolvers ?? []).filter((a) => IPV4.test(a)).sort(compareAddresses);
  if (!addresses.length) return [];
  return (['udp', 'tcp'] as const).map(
    (p) => `ip daddr ${set(addresses)} ${p} dport 53 counter accept comment "${BUILTIN.dns}"`,
  );
}

/**
 * The table a namespace holder loads before anything else runs in its namespace: loopback
 * and the engine's resolver (Docker's 127.0.0.11; on Podman also DNS to `resolvers`, its
 * networks' gateways), nothing more, until the policy's own table replaces it.
 */
export function closedTableText(resolvers: string[] = []): string {
  return [
    ...replaceHeader(),
    `table inet ${TABLE} {`,
    '  chain ingress {',
    '    type filter hook input priority 0; policy drop;',
    `    iif "lo" counter accept comment "${BUILTIN.loopback}"`,
    '  }',
    '  chain egress {',
    '    type filter hook output priority 0; policy drop;',
    `    ip daddr ${DOCKER_DNS} counter accept comment "${BUILTIN.dns}"`,
    ...resolverRules(resolvers).map((r) => `    ${r}`),
    `    oif "lo" counter accept comment "${BUILTIN.loopback}"`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** A file that removes our table (mode off), and nothing else. */
export function removeTableText(): string {
  return replaceHeader().join('\n') + '\n';
}

function set(items: string[]): string {
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
}

/** The addresses of every instance some peer matches, or "any". */
function peerAddresses(policy: Policy, peers: Peer[], instances: WorkloadInstance[]): string[] | 'any' {
  if (peers.some((p) => p.kind === 'any')) return 'any';
  const out = new Set<string>();
  for (const i of instances) if (peersMatch(policy, peers, i)) for (const a of addressesOf(i)) out.add(a);
  return [...out].sort(compareAddresses);
}

function compareAddresses(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

function portMatchers(ports: PortRange[] | undefined): { protocol?: Protocol; match: string }[] {
  if (!ports) return [{ match: '' }];
  const out: { protocol?: Protocol; match: string }[] = [];
  for (const protocol of ['tcp', 'udp'] as const) {
    const items = ports
      .filter((p) => p.protocol === protocol)
      .sort((a, b) => a.from - b.from)
      .map((p) => (p.from === p.to ? String(p.from) : `${p.from}-${p.to}`));
    if (items.length) out.push({ protocol, match: `${protocol} dport ${set(items)}` });
  }
  return out;
}

/** The statements that carry out an action, each with the extra match it needs. */
function verdictStatements(
  action: Action,
  protocol: Protocol | undefined,
  mode: Mode,
): { match: string; stmt: string }[] {
  if (action === 'allow' || mode === 'monitor') return [{ match: '', stmt: 'accept' }];
  if (action === 'deny') {
    // A TCP packet without SYN that conntrack takes as new belongs to a connection a policy
    // change cut (conntrack -D): a reset tells its sender at once, where a drop would leave a
    // pooled keep-alive socket hanging until its request timeout. New connections stay dropped.
    const midStream = { match: 'tcp flags & (syn | rst) == 0 ', stmt: 'reject with tcp reset' };
    return protocol === 'udp' ? [{ match: '', stmt: 'drop' }] : [midStream, { match: '', stmt: 'drop' }];
  }
  if (protocol === 'tcp') return [{ match: '', stmt: 'reject with tcp reset' }];
  if (protocol === 'udp') return [{ match: '', stmt: 'reject' }];
  // Every protocol: TCP gets a reset, the rest an ICMP port unreachable.
  return [
    { match: 'meta l4proto tcp ', stmt: 'reject with tcp reset' },
    { match: '', stmt: 'reject' },
  ];
}

function compileRule(
  rule: Rule,
  direction: 'ingress' | 'egress',
  peers: string[] | 'any',
  mode: Mode,
): string[] {
  const comment = ruleComment(rule.id, rule.action, {
    audit: mode === 'monitor' && rule.action !== 'allow',
    log: rule.log,
  });
  if (peers !== 'any' && peers.length === 0) return [`# ${comment}: no running workload matches its peers`];
  const address = peers === 'any' ? '' : `ip ${direction === 'ingress' ? 'saddr' : 'daddr'} ${set(peers)} `;
  const lines: string[] = [];
  for (const { protocol, match } of portMatchers(rule.ports)) {
    for (const v of verdictStatements(rule.action, protocol, mode))
      lines.push(`${address}${match ? `${match} ` : ''}${v.match}counter ${v.stmt} comment "${comment}"`);
  }
  return lines;
}

function defaultRule(policy: Policy, mode: Mode): string[] {
  const comment = ruleComment('default', policy.defaultAction, {
    audit: mode === 'monitor' && policy.defaultAction !== 'allow',
  });
  return verdictStatements(policy.defaultAction, undefined, mode).map(
    (v) => `${v.match}counter ${v.stmt} comment "${comment}"`,
  );
}

function indent(lines: string[], depth: number): string[] {
  return lines.map((l) => `${'  '.repeat(depth)}${l}`);
}

/** The table file for one instance, given every running instance of the project. */
export function compileTable(
  policy: Policy,
  target: WorkloadInstance,
  instances: WorkloadInstance[],
): CompiledTable {
  const mode = modeOf(policy, target);
  const base = { containerId: target.containerId, workload: target.name, mode };
  if (mode === 'off') return { ...base, text: removeTableText() };

  const ingress: string[] = [
    `iif "lo" counter accept comment "${BUILTIN.loopback}"`,
    `ct state established,related counter accept comment "${BUILTIN.established}"`,
    `ct state invalid counter drop comment "${BUILTIN.invalid}"`,
    TRACE_NEW,
  ];
  const egress: string[] = [
    `ip daddr ${DOCKER_DNS} counter accept comment "${BUILTIN.dns}"`,
    ...resolverRules(target.resolvers),
    `oif "lo" counter accept comment "${BUILTIN.loopback}"`,
    `ct state established,related counter accept comment "${BUILTIN.established}"`,
    `ct state invalid counter drop comment "${BUILTIN.invalid}"`,
    TRACE_NEW,
  ];
  for (const rule of policy.rules) {
    if (peersMatch(policy, rule.to, target))
      ingress.push(...compileRule(rule, 'ingress', peerAddresses(policy, rule.from, instances), mode));
    if (peersMatch(policy, rule.from, target))
      egress.push(...compileRule(rule, 'egress', peerAddresses(policy, rule.to, instances), mode));
  }
  ingress.push(...defaultRule(policy, mode));
  egress.push(...defaultRule(policy, mode));

  const chain = (name: string, hook: string, priority: number, body: string[]) => [
    `chain ${name} {`,
    ...indent([`type filter hook ${hook} priority ${priority}; policy accept;`, ...body], 1),
    '}',
  ];
  const text = [
    `# microlab: ${target.name} (${target.containerName}), mode ${mode}${policy.name ? `, policy ${policy.name}` : ''}`,
    ...replaceHeader(),
    `table inet ${TABLE} {`,
    ...indent([...chain('ingress', 'input', 0, ingress), ...chain('egress', 'output', 0, egress)], 1),
    '}',
  ].join('\n');
  return { ...base, text: text + '\n' };
}

export function compileTables(policy: Policy, instances: WorkloadInstance[]): CompiledTable[] {
  return instances.map((target) => compileTable(policy, target, instances));
}

/**
 * Whether a table's text (`nft list table` output, or what `compileTable` wrote) names the
 * IPv4 `address` as a whole address: 198.19.0.2 is not found in 198.19.0.20.
 */
export function tableNamesAddress(tableText: string, address: string): boolean {
  const escaped = address.replace(/\./g, '\\.');
  return new RegExp(`(?<![\\d.])${escaped}(?![\\d])`).test(tableText);
}
