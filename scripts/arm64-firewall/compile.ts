/**
 * Compiles every shipped policy (labs/policies/*.yaml) with MicroLab's own compiler into nft
 * files, for scripts/arm64-firewall/run.sh to load into an arm64 kernel:
 *
 *   OUT/<policy>/<workload>.nft   each workload's table (one replica each, addresses in the
 *                                 lab pool), as `policy apply` loads it into the pod's holder
 *   OUT/<policy>/_router.nft      the perimeter router's table for the same policy
 *   OUT/_closed.nft               the table a holder loads before anything else
 *   OUT/_doctor.sh                the doctor's firewall probe (firewall/features.ts)
 *
 * Usage: node compile.cjs POLICY_DIR OUT_DIR. A policy's deployment is its file name's first word
 * (monolith-..., microservices-...); a file that does not parse stops the script with its
 * problems at file:line:column.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { closedTableText, compileTables } from '../../electron/firewall/compile';
import { firewallProbe, probeScript } from '../../electron/firewall/features';
import { compilePerimeter } from '../../electron/firewall/perimeter';
import { parsePolicy } from '../../electron/firewall/policy';
import { deployments } from '../../electron/topology/declarations';
import { perimeterLayout, segmentsOfDeployment } from '../../electron/topology/perimeter';
import type { WorkloadInstance } from '../../electron/topology/workload';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: compile POLICY_DIR OUT_DIR');
  process.exit(2);
}

function instancesOf(name: keyof typeof deployments): WorkloadInstance[] {
  return deployments[name].workloads.map((w, i) => ({
    name: w.name,
    labels: w.labels,
    ports: w.ports,
    containerId: `arm64-${w.name}`,
    containerName: `microlab-${w.name}-1`,
    addresses: { lab: `198.19.0.${10 + i}` },
  }));
}

mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, '_closed.nft'), closedTableText());
writeFileSync(path.join(out, '_doctor.sh'), probeScript(firewallProbe()));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
for (const file of files) {
  const deployment = file.split('-')[0] as keyof typeof deployments;
  if (!(deployment in deployments)) {
    console.error(
      `${file}: its name does not start with a deployment (${Object.keys(deployments).join(', ')})`,
    );
    process.exit(1);
  }
  const policy = parsePolicy(readFileSync(path.join(dir, file), 'utf8'), file);
  const target = path.join(out, file.replace(/\.yaml$/, ''));
  mkdirSync(target, { recursive: true });
  const instances = instancesOf(deployment);
  for (const table of compileTables(policy, instances))
    writeFileSync(path.join(target, `${table.workload}.nft`), table.text);
  const declaration = deployments[deployment];
  const subnets = Object.fromEntries(
    [...segmentsOfDeployment(declaration).keys()].map((segment, i) => [segment, `198.19.${20 + i}.0/24`]),
  );
  writeFileSync(
    path.join(target, '_router.nft'),
    compilePerimeter(policy, perimeterLayout(declaration, subnets), declaration.workloads),
  );
  console.log(`${file}: ${instances.length} workload tables and the router's`);
}
