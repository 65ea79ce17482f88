/**
 * What the firewall needs from a kernel, derived from the compiler's own output so that the
 * doctor's check cannot drift from what `policy apply` loads.
 *
 * `firewallProbe()` compiles a policy that uses every construct the compiler emits (ct state,
 * loopback, the DNS exceptions for Docker and Podman, nftrace, counters, address and port sets
 * with intervals, deny with the mid-stream reset, reject with a TCP reset and with ICMP) and
 * lists each rule line of the result with the named features it uses. `probeScript()` is the
 * shell script a throwaway firewall container runs: it loads the whole table, lists it back and
 * deletes a conntrack entry the way a policy change cuts a connection (cut.ts). When the whole
 * table does not load, it loads each rule alone, and each rule's matches alone (its verdict
 * replaced by accept), so that `readProbe()` can name the missing feature: one used only by
 * the lines that failed.
 *
 * Facts: a kernel built without `CONFIG_NFT_REJECT` (some WSL2 and embedded kernels, which
 * ship nftables modules that are not loaded) refuses `reject` with "Could not process rule: No
 * such file or directory"; QEMU's user-mode emulation refuses NETLINK_NETFILTER altogether
 * ("Protocol not supported", multiarch/qemu-user-static#191).
 */
import type { DoctorCheck } from '../engine/types';
import type { FirewallCheck } from '../engine/doctor';
import type { WorkloadInstance } from '../topology/workload';
import { compileTable, TABLE } from './compile';
import { cutScript, parseCutResults } from './cut';
import { parsePolicy } from './policy';

export interface FirewallFeature {
  /** Short stable id, e.g. "reject-tcp-reset". */
  id: string;
  /** What a student reads: "reject with tcp reset". */
  name: string;
  /** Finds the feature in one rule line of a compiled table. */
  pattern: RegExp;
  /** The kernel part behind it (module name as Linux calls it), for the hint. */
  kernel: string;
}

/**
 * Every construct the compiler emits, as found in one rule line. A unit test checks that each
 * rule line of the probe table is covered entirely by these (nothing left but its comment), so
 * a new construct in compile.ts needs a name here first.
 */
export const FIREWALL_FEATURES: readonly FirewallFeature[] = [
  { id: 'loopback', name: 'interface match (iif/oif "lo")', pattern: /\b[io]if "lo"/, kernel: 'nft_meta' },
  { id: 'ct-state', name: 'ct state', pattern: /\bct state [a-z,]+/, kernel: 'nft_ct (nf_conntrack)' },
  { id: 'nftrace', name: 'meta nftrace', pattern: /\bmeta nftrace set 1\b/, kernel: 'nft_meta' },
  { id: 'l4proto', name: 'meta l4proto', pattern: /\bmeta l4proto (tcp|udp)\b/, kernel: 'nft_meta' },
  {
    id: 'address',
    name: 'address match (ip saddr/daddr)',
    pattern: /\bip [sd]addr (\{[^}]*\}|[\d.]+)/,
    kernel: 'nft_payload',
  },
  {
    id: 'port',
    name: 'port match (tcp/udp dport)',
    pattern: /\b(tcp|udp) dport (\{[^}]*\}|[\d-]+)/,
    kernel: 'nft_payload',
  },
  { id: 'set', name: 'anonymous sets ({ a, b })', pattern: /\{ [^}]+, [^}]+ \}/, kernel: 'nft_set_hash' },
  {
    id: 'interval',
    name: 'interval sets (port ranges in a set)',
    pattern: /\{[^}]*\b\d+-\d+\b[^}]*\}/,
    kernel: 'nft_set_rbtree',
  },
  {
    id: 'tcp-flags',
    name: 'tcp flags match',
    pattern: /\btcp flags & \(syn \| rst\) == 0/,
    kernel: 'nft_payload, nft_bitwise',
  },
  { id: 'counter', name: 'counter', pattern: /\bcounter\b/, kernel: 'nft_counter' },
  { id: 'comment', name: 'rule comment', pattern: /\bcomment "[^"]*"/, kernel: 'nf_tables (userdata)' },
  { id: 'accept', name: 'accept', pattern: /\baccept\b/, kernel: 'nf_tables' },
  { id: 'drop', name: 'drop', pattern: /\bdrop\b/, kernel: 'nf_tables' },
  {
    id: 'reject-tcp-reset',
    name: 'reject with tcp reset',
    pattern: /\breject with tcp reset\b/,
    kernel: 'nft_reject_inet (CONFIG_NFT_REJECT)',
  },
  {
    id: 'reject-icmp',
    name: 'reject with icmp (port unreachable)',
    pattern: /\breject(?! with)\b/,
    kernel: 'nft_reject_inet (CONFIG_NFT_REJECT)',
  },
];

/** One line of the probe: a rule as the compiler wrote it, in its chain. */
export interface ProbeRule {
  /** The chain's base line: `type filter hook input priority 0; policy accept;`. */
  chain: string;
  rule: string;
  /** FIREWALL_FEATURES ids found in the rule. */
  features: string[];
}

export interface FirewallProbe {
  /** The compiled table, as `policy apply` would load it. */
  table: string;
  /** Its rule lines, and each line's matches alone (verdict accept), without repeats. */
  rules: ProbeRule[];
}

/** Uses every construct of the compiler: rules of each action, sets, ranges, udp, Podman's resolvers. */
const EVERY_CONSTRUCT = `
name: doctor-every-construct
mode: enforce
defaultAction: reject
segments:
  web: { selector: { tier: web } }
  db: { selector: { tier: db } }
rules:
  - { id: web-db, from: { segment: web }, to: { segment: db }, ports: [5432, "8000-8080", "53/udp"], action: allow }
  - { id: db-out, from: { segment: db }, to: any, ports: [8080], action: deny }
  - { id: db-udp, from: { segment: db }, to: any, ports: ["9000-9100/udp"], action: deny }
  - { id: web-reject, from: { segment: web }, to: { segment: web }, ports: [9000], action: reject }
  - { id: web-reject-udp, from: { segment: web }, to: { segment: web }, ports: ["9001/udp"], action: reject, log: false }
`;

function probeInstance(name: string, tier: string, ip: string): WorkloadInstance {
  return {
    name,
    labels: { tier },
    ports: [{ port: 8080, protocol: 'tcp' }],
    containerId: `doctor-${name}`,
    containerName: `doctor-${name}`,
    addresses: { lab: ip },
    resolvers: ['198.51.100.1', '198.51.100.129'],
  };
}

/** Every verdict statement a compiled rule can end with. */
const VERDICT = /\b(accept|drop|reject with tcp reset|reject)(?= comment|$)/;

/** The rule lines of a compiled table, each with its chain's base line. */
export function ruleLines(table: string): { chain: string; rule: string }[] {
  const out: { chain: string; rule: string }[] = [];
  let chain: string | undefined;
  for (const raw of table.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('type filter hook')) chain = line;
    else if (chain && line === '}') chain = undefined;
    else if (chain && line && !line.startsWith('#')) out.push({ chain, rule: line });
  }
  return out;
}

const COMMENT = /\s*\bcomment "[^"]*"/;

/** The FIREWALL_FEATURES ids a rule line uses; its comment's words are not constructs. */
export function featuresOf(rule: string): string[] {
  const body = rule.replace(COMMENT, '');
  return FIREWALL_FEATURES.filter((f) => f.pattern.test(f.id === 'comment' ? rule : body)).map((f) => f.id);
}

/** The compiled table of a policy using every construct, and its rule lines with their features. */
export function firewallProbe(): FirewallProbe {
  const policy = parsePolicy(EVERY_CONSTRUCT, 'doctor-every-construct.yaml');
  const instances = [
    probeInstance('web', 'web', '198.51.100.10'),
    probeInstance('web', 'web', '198.51.100.11'),
    probeInstance('db', 'db', '198.51.100.20'),
  ];
  // The web replica: it is on both sides of rules, with peers that are sets.
  const { text } = compileTable(policy, instances[0]!, instances);
  const seen = new Set<string>();
  const rules: ProbeRule[] = [];
  const add = (chain: string, rule: string) => {
    const key = `${chain}\n${rule}`;
    if (seen.has(key)) return;
    seen.add(key);
    rules.push({ chain, rule, features: featuresOf(rule) });
  };
  for (const { chain, rule } of ruleLines(text)) {
    add(chain, rule);
    if (VERDICT.test(rule) && !/\baccept\b/.test(rule)) add(chain, rule.replace(VERDICT, 'accept'));
  }
  return { table: text, rules };
}

/** The table each rule is tried alone in (inside the throwaway namespace only). */
const PROBE_TABLE = 'microlab_probe';

/** The conntrack entry the probe creates and then deletes as a policy change would. */
const PROBE_ENTRY = {
  protocol: 'tcp',
  src: '198.51.100.1',
  dst: '198.51.100.2',
  sport: 40000,
  dport: 8080,
} as const;

/**
 * The script a throwaway container with NET_ADMIN runs in a namespace of its own. Its output
 * lines: "probe table ok|fail MESSAGE", "probe rule N ok|fail MESSAGE" (only after a failed
 * table), "probe conntrack-create ok|fail MESSAGE" and cutScript's "deleted 0 CODE".
 */
export function probeScript(probe: FirewallProbe): string {
  const heredoc = (file: string, text: string) => `cat > ${file} <<'MICROLAB_EOF'\n${text}\nMICROLAB_EOF`;
  const ruleProbes = probe.rules.flatMap((r, i) => [
    heredoc(
      `/tmp/rule-${i}.nft`,
      [
        `table inet ${PROBE_TABLE} {}`,
        `delete table inet ${PROBE_TABLE}`,
        `table inet ${PROBE_TABLE} {`,
        `  chain probe {`,
        `    ${r.chain}`,
        `    ${r.rule}`,
        '  }',
        '}',
      ].join('\n'),
    ),
    `  if try nft -f /tmp/rule-${i}.nft; then echo "probe rule ${i} ok"; else echo "probe rule ${i} fail $out"; fi`,
  ]);
  const { protocol, src, dst, sport, dport } = PROBE_ENTRY;
  return [
    // runs a command; its exit code, and its output (stdout and stderr) on one line in $out
    `try() { out=$("$@" 2>&1); rc=$?; out=$(printf '%s' "$out" | tr '\\n' ' '); return $rc; }`,
    'echo "probe kernel $(uname -r)"',
    heredoc('/tmp/table.nft', probe.table),
    `if try nft -f /tmp/table.nft && try nft list table inet ${TABLE}; then`,
    `  printf '%s' "$out" > /tmp/listed`,
    '  echo "probe table ok"',
    'else',
    '  echo "probe table fail $out"',
    ...ruleProbes,
    'fi',
    `if try conntrack -I -p ${protocol} -s ${src} -d ${dst} --sport ${sport} --dport ${dport} --state ESTABLISHED --timeout 60; then echo "probe conntrack-create ok"; else echo "probe conntrack-create fail $out"; fi`,
    cutScript([{ entry: { ...PROBE_ENTRY }, direction: 'ingress', verdict: 'denied', ruleId: 'doctor' }]),
    `echo "probe listed $(grep -o 'comment "' /tmp/listed 2>/dev/null | wc -l)"`,
  ].join('\n');
}

/** What the probe found: the missing features by name, and whether conntrack -D works. */
export interface ProbeResult {
  table: 'loaded' | 'refused';
  /** nft's own words when the table was refused (one line). */
  error?: string;
  /** Features used only by rules the kernel refused (FIREWALL_FEATURES entries). */
  missing: FirewallFeature[];
  /** Rules refused that no missing feature explains (a combination), as the compiler wrote them. */
  refusedRules: string[];
  /** Rule comments `nft list table` gave back, when the table loaded. */
  listedRules: number;
  conntrack: 'deleted' | 'create-failed' | 'delete-failed';
  conntrackError?: string;
}

/** Reads the probe script's output. Throws when the output is not the script's (the container failed). */
export function readProbe(probe: FirewallProbe, output: string): ProbeResult {
  const table = /^probe table (ok|fail)(?: (.*))?$/m.exec(output);
  if (!table) throw new Error(`the firewall probe printed no result: ${output.trim().slice(0, 300)}`);
  const failed = new Set<number>();
  const passed = new Set<number>();
  for (const m of output.matchAll(/^probe rule (\d+) (ok|fail)(?: (.*))?$/gm))
    (m[2] === 'ok' ? passed : failed).add(Number(m[1]));
  const usedBy = (ids: Set<number>) => new Set([...ids].flatMap((i) => probe.rules[i]?.features ?? []));
  const working = usedBy(passed);
  const suspects = usedBy(failed);
  const missing = FIREWALL_FEATURES.filter((f) => suspects.has(f.id) && !working.has(f.id));
  const refusedRules = [...failed]
    .map((i) => probe.rules[i]!)
    .filter((r) => !r.features.some((f) => missing.some((m) => m.id === f)))
    .map((r) => r.rule);
  const created = /^probe conntrack-create (ok|fail)(?: (.*))?$/m.exec(output);
  const deleted = parseCutResults(output).has(0);
  const listed = /^probe listed (\d+)$/m.exec(output);
  return {
    table: table[1] === 'ok' ? 'loaded' : 'refused',
    ...(table[1] === 'fail' ? { error: (table[2] ?? '').trim() } : {}),
    missing,
    refusedRules,
    listedRules: Number(listed?.[1] ?? 0),
    conntrack: created?.[1] !== 'ok' ? 'create-failed' : deleted ? 'deleted' : 'delete-failed',
    ...(created?.[1] !== 'ok' ? { conntrackError: (created?.[2] ?? '').trim() } : {}),
  };
}

type Finding = Omit<DoctorCheck, 'id' | 'title'>;

/** What to do about missing kernel parts, for the engine's kernel (`uname -r` in the namespace). */
function kernelHint(kernel: string, modules: string[]): string {
  const list = [...new Set(modules)].join(', ');
  if (/microsoft/i.test(kernel))
    return `WSL2's kernel (${kernel}) builds these as modules it does not load: run \`wsl --update\` in Windows, then in your WSL distribution \`sudo modprobe ${list.replace(/ \([^)]*\)/g, '')}\`, or use Docker Desktop's own engine (Settings > General > Use the WSL 2 based engine, with its current kernel).`;
  if (/linuxkit|orbstack|colima/i.test(kernel))
    return `The engine's VM kernel (${kernel}) lacks ${list}: update Docker Desktop / Colima / Podman machine to a current release.`;
  return `The kernel (${kernel}) lacks ${list}: \`sudo modprobe\` them (e.g. \`sudo modprobe nft_reject_inet\`), or install your distribution's full kernel (on Debian: linux-image-amd64 or linux-image-arm64).`;
}

/** The probe's output as the doctor's finding: each missing feature named, with the kernel part behind it. */
export function readFirewallProbe(probe: FirewallProbe, output: string, exitCode: number): Finding {
  const kernel = /^probe kernel (\S+)$/m.exec(output)?.[1] ?? 'unknown';
  let result: ProbeResult;
  try {
    result = readProbe(probe, output);
  } catch (err) {
    return {
      status: 'fail',
      summary: `the firewall probe did not run (exit ${exitCode}): ${(err as Error).message}`,
      details: { kernel },
      hint: 'The engine must allow NET_ADMIN for containers; check that the base image is intact (`microlab images prepare`).',
    };
  }
  const details: Record<string, string> = { kernel };
  const missingIds = new Set(result.missing.map((f) => f.id));
  const used = new Set(probe.rules.flatMap((r) => r.features));
  for (const f of FIREWALL_FEATURES) {
    if (!used.has(f.id)) continue;
    details[`nft: ${f.name}`] =
      result.table === 'loaded' ? 'works' : missingIds.has(f.id) ? `missing (${f.kernel})` : 'works alone';
  }
  details['conntrack -D'] =
    result.conntrack === 'deleted'
      ? 'works'
      : result.conntrack === 'create-failed'
        ? `not tried: could not create a test entry (${result.conntrackError || 'no message'})`
        : 'failed: the entry stayed';
  if (result.table === 'refused') {
    if (/protocol not supported/i.test(result.error ?? ''))
      return {
        status: 'fail',
        summary: `nft cannot talk to the kernel: ${result.error}`,
        details,
        hint: "This is what nft says under emulation (QEMU user mode refuses NETLINK_NETFILTER): the firewall image must be built for the engine's own architecture.",
      };
    const named = result.missing.map((f) => f.name);
    const rest = result.refusedRules.map((r) => `"${r}"`);
    const what = [...named, ...(rest.length ? [`the rules ${rest.join(', ')}`] : [])];
    return {
      status: 'fail',
      summary: what.length
        ? `the kernel refused the firewall's table: missing ${what.join('; ')} (nft: ${result.error})`
        : `the kernel refused the firewall's table, yet took each rule alone (nft: ${result.error})`,
      details,
      hint: result.missing.length
        ? kernelHint(
            kernel,
            result.missing.map((f) => f.kernel),
          )
        : 'The kernel needs nf_tables (sudo modprobe nf_tables), and the engine must allow NET_ADMIN for containers.',
    };
  }
  if (result.conntrack !== 'deleted')
    return {
      status: 'fail',
      summary: `the table loads, but conntrack -D does not work: ${details['conntrack -D']}`,
      details,
      hint:
        kernelHint(kernel, ['nf_conntrack_netlink']) +
        ' Without it a policy change cannot cut open connections.',
    };
  return {
    status: 'pass',
    summary: `a container with NET_ADMIN only, in an unprivileged workload's namespace, loaded a table with every construct the compiler emits (${result.listedRules} rules listed back) and deleted a conntrack entry`,
    details,
  };
}

/** The doctor's firewall check (engine/doctor.ts runs it): the probe script and its reading. */
export function doctorFirewallCheck(): FirewallCheck {
  const probe = firewallProbe();
  return {
    script: probeScript(probe),
    read: (output, exitCode) => readFirewallProbe(probe, output, exitCode),
  };
}
