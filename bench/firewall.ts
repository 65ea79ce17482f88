/**
 * Firewall figures, on 12 synthetic workloads (pods whose app is a base-image container
 * listening with nc, labeled like the shop's; bench/synthetic.ts): policy apply across all of
 * them (every table reloaded: two policies alternate) against two baselines in the same run,
 * the same tables loaded by one `docker exec` of `nft -f` per pod (in parallel), and a naive
 * one `docker exec` per rule; and the full reachability matrix probe.
 */
import Docker from 'dockerode';
import { labelsFor } from '../electron/engine/labels';
import { down } from '../electron/engine/cleanup';
import { compileTable, compileTables } from '../electron/firewall/compile';
import { Enforcer } from '../electron/firewall/enforcer';
import { listInstances } from '../electron/firewall/instances';
import { parsePolicy } from '../electron/firewall/policy';
import { execIn } from '../electron/engine/exec';
import { runProbe } from '../electron/probe/matrix';
import type { Workload } from '../electron/topology/workload';
import { median, percentile, report, timeRuns } from './lib';
import { startSyntheticPod } from './synthetic';

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

async function setUp(docker: Docker, enforcer: Enforcer): Promise<void> {
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
  await Promise.all(workloads().map((w) => startSyntheticPod(docker, PROJECT, enforcer, network, w, 1)));
}

/** A baseline: the same tables, one `docker exec` of `nft -f` per pod, all pods at once. */
async function execApply(docker: Docker, text: string): Promise<void> {
  const instances = await listInstances(docker, PROJECT);
  const policy = parsePolicy(text);
  await Promise.all(
    instances.map(async (instance) => {
      const table = compileTable(policy, instance, instances);
      const r = await execIn(docker, instance.holder!, ['nft', '-f', '-'], { input: table.text });
      if (r.exitCode !== 0) throw new Error(`nft -f in ${instance.containerName}: ${r.output}`);
    }),
  );
}

/** The naive baseline: the same tables, one `docker exec` per rule, one pod after the other. */
async function naiveApply(docker: Docker, text: string): Promise<void> {
  const instances = await listInstances(docker, PROJECT);
  const policy = parsePolicy(text);
  for (const table of compileTables(policy, instances)) {
    const holder = instances.find((i) => i.containerId === table.containerId)!.holder!;
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
    await execIn(docker, holder, ['sh', '-c', `printf '%s' "$1" | nft -f -`, 'load', skeleton.join('\n')]);
    for (const rule of rules) await execIn(docker, holder, ['sh', '-c', `nft "$1"`, 'rule', rule]);
  }
}

export async function benchFirewall(): Promise<void> {
  const docker = new Docker();
  const enforcer = new Enforcer(docker, PROJECT);
  await setUp(docker, enforcer);
  try {
    await enforcer.apply(parsePolicy(policyText(0)));
    let variant = 1;
    const apply = await timeRuns(30, () => enforcer.apply(parsePolicy(policyText(variant++))), 2);
    const exec = await timeRuns(10, () => execApply(docker, policyText(variant++)), 1);
    const naive = await timeRuns(3, () => naiveApply(docker, policyText(variant++)));
    const perPod = { name: 'one docker exec of nft -f per pod, in parallel', unit: 'ms', samples: exec };
    const baseline = { name: 'naive apply (one docker exec per rule)', unit: 'ms', samples: naive };
    report({ name: 'policy apply, 12 workloads', unit: 'ms', samples: apply }, perPod);
    report({ name: 'policy apply, 12 workloads', unit: 'ms', samples: apply }, baseline);
    console.log(
      `policy apply p50 ${median(apply).toFixed(1)} ms, p95 ${percentile(apply, 95).toFixed(1)} ms; exec per pod ${median(exec).toFixed(0)} ms (${(median(exec) / median(apply)).toFixed(1)}x slower); naive ${median(naive).toFixed(0)} ms (${(median(naive) / median(apply)).toFixed(0)}x slower)`,
    );
    // Every table in force again through the enforcer (the baselines loaded theirs behind its back).
    enforcer.forget();
    const policy = parsePolicy(policyText(0));
    await enforcer.apply(policy);
    let cells = 0;
    let mismatches = 0;
    let fast = 0;
    const probe = await timeRuns(5, async () => {
      const r = await runProbe(docker, PROJECT, policy);
      cells = r.cells.length;
      mismatches += r.mismatches;
      fast = r.cells.filter((c) => c.evidence).length;
    });
    report({
      name: `full matrix probe, ${cells} flows (${fast} denied ones ended by the kernel's trace of their drop)`,
      unit: 'ms',
      samples: probe,
    });
    if (mismatches) console.log(`  (${mismatches} mismatches seen while probing)`);
  } finally {
    enforcer.close();
    await down(docker, PROJECT);
  }
}
