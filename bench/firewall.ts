/**
 * Firewall figures, on 12 synthetic workloads (base-image containers listening with nc,
 * labeled like the shop's): policy apply across all of them (every table reloaded: two
 * policies alternate) against a naive baseline that loads the same rules with one
 * `docker exec` per rule; and the full reachability matrix probe.
 */
import Docker from 'dockerode';
import { baseImageName } from '../electron/engine/images';
import { labelsFor } from '../electron/engine/labels';
import { down } from '../electron/engine/cleanup';
import { compileTables } from '../electron/firewall/compile';
import { Enforcer } from '../electron/firewall/enforcer';
import { listInstances } from '../electron/firewall/instances';
import { parsePolicy } from '../electron/firewall/policy';
import { execIn } from '../electron/engine/exec';
import { listSidecars } from '../electron/firewall/sidecar';
import { runProbe } from '../electron/probe/matrix';
import type { Workload } from '../electron/topology/workload';
import { workloadLabels } from '../electron/topology/workload';
import { median, percentile, report, timeRuns } from './lib';

const PROJECT = 'microlab-bench-fw';
const SERVICES = ['gateway', 'catalog', 'cart', 'orders', 'payments', 'accounts'];

function workloads(): Workload[] {
  const list: Workload[] = [];
  for (const s of SERVICES) {
    list.push({
      name: s,
      labels: { service: s, tier: s === 'gateway' ? 'web' : 'api' },
      ports: [{ port: 8080, protocol: 'tcp' }],
    });
    if (s !== 'gateway')
      list.push({
        name: `${s}-db`,
        labels: { service: s, tier: 'db' },
        ports: [{ port: 5432, protocol: 'tcp' }],
      });
  }
  list.push({ name: 'admin', labels: { tier: 'ops' }, ports: [{ port: 22, protocol: 'tcp' }] });
  return list; // 12
}

/** The microservices call graph as an allowlist, and a variant (so every apply reloads). */
function policyText(variant: number): string {
  const calls: [string, string][] = [
    ['gateway', 'catalog'],
    ['gateway', 'cart'],
    ['gateway', 'orders'],
    ['gateway', 'accounts'],
    ['orders', 'payments'],
    ['orders', 'cart'],
    ['cart', 'catalog'],
  ];
  const rules = calls.map(
    ([a, b]) =>
      `  - { id: ${a}-to-${b}, from: { workload: ${a} }, to: { workload: ${b} }, ports: [8080], action: allow }`,
  );
  for (const s of SERVICES.slice(1))
    rules.push(
      `  - { id: ${s}-db, from: { workload: ${s} }, to: { workload: ${s}-db }, ports: [5432], action: allow }`,
    );
  rules.push(
    `  - { id: ops, from: { segment: ops }, to: any, ports: [22], action: ${variant % 2 ? 'allow' : 'reject'} }`,
  );
  return `name: bench-${variant}\ndefaultAction: deny\nsegments:\n  ops: { selector: { tier: ops } }\nrules:\n${rules.join('\n')}\n`;
}

async function setUp(docker: Docker): Promise<void> {
  await down(docker, PROJECT);
  const used = new Set(
    (await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet)),
  );
  let subnet = '';
  for (let o = 230; o > 100 && !subnet; o--) if (!used.has(`198.19.${o}.0/24`)) subnet = `198.19.${o}.0/24`;
  const network = `${PROJECT}-net`;
  await docker.createNetwork({
    Name: network,
    Internal: true,
    Labels: labelsFor(PROJECT, 'network'),
    IPAM: { Config: [{ Subnet: subnet }] },
  });
  await Promise.all(
    workloads().map(async (w) => {
      const c = await docker.createContainer({
        name: `${PROJECT}-${w.name}-1`,
        Image: baseImageName(),
        Cmd: ['sh', '-c', `${w.ports.map((p) => `nc -lk -p ${p.port} >/dev/null 2>&1 &`).join(' ')} wait`],
        Labels: {
          ...labelsFor(PROJECT, 'workload', { workload: w.name }),
          ...workloadLabels(w, 'synthetic'),
        },
        HostConfig: { NetworkMode: network, CapDrop: ['ALL'] },
      });
      await c.start();
    }),
  );
}

/** The baseline: the same tables, one `docker exec` per rule, one workload after the other. */
async function naiveApply(docker: Docker, text: string): Promise<void> {
  const instances = await listInstances(docker, PROJECT);
  const sidecars = await listSidecars(docker, PROJECT);
  const policy = parsePolicy(text);
  for (const table of compileTables(policy, instances)) {
    const sidecar = sidecars.find((s) => s.target === table.containerId && s.running)!;
    const lines = table.text.split('\n');
    let chain = '';
    const skeleton: string[] = [];
    const rules: string[] = [];
    for (const raw of lines) {
      const line = raw.trim();
      const open = /^chain (\w+) \{$/.exec(line);
      if (open) chain = open[1]!;
      if (!line || line.startsWith('#')) continue;
      if (chain && !open && line !== '}' && !line.startsWith('type '))
        rules.push(`add rule inet microlab ${chain} ${line}`);
      else skeleton.push(raw);
    }
    await execIn(docker, sidecar.id, [
      'sh',
      '-c',
      `printf '%s' "$1" | nft -f -`,
      'load',
      skeleton.join('\n'),
    ]);
    for (const rule of rules) await execIn(docker, sidecar.id, ['sh', '-c', `nft "$1"`, 'rule', rule]);
  }
}

export async function benchFirewall(): Promise<void> {
  const docker = new Docker();
  await setUp(docker);
  try {
    const enforcer = new Enforcer(docker, PROJECT);
    await enforcer.apply(parsePolicy(policyText(0))); // starts the 12 sidecars
    let variant = 1;
    const apply = await timeRuns(30, () => enforcer.apply(parsePolicy(policyText(variant++))), 2);
    const naive = await timeRuns(3, () => naiveApply(docker, policyText(variant++)));
    const baseline = { name: 'naive apply (one docker exec per rule)', unit: 'ms', samples: naive };
    report({ name: 'policy apply, 12 workloads', unit: 'ms', samples: apply }, baseline);
    console.log(
      `policy apply p50 ${median(apply).toFixed(1)} ms, p95 ${percentile(apply, 95).toFixed(1)} ms; naive ${median(naive).toFixed(0)} ms (${(median(naive) / median(apply)).toFixed(0)}x slower)`,
    );
    await enforcer.apply(parsePolicy(policyText(0)));
    const policy = parsePolicy(policyText(0));
    let cells = 0;
    let mismatches = 0;
    const probe = await timeRuns(5, async () => {
      const r = await runProbe(docker, PROJECT, policy);
      cells = r.cells.length;
      mismatches += r.mismatches;
    });
    report({ name: `full matrix probe, ${cells} flows (drops wait 1 s)`, unit: 'ms', samples: probe });
    if (mismatches) console.log(`  (${mismatches} mismatches seen while probing)`);
  } finally {
    await down(docker, PROJECT);
  }
}
