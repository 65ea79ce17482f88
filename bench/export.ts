/**
 * The Kubernetes export (issue 18): the largest shipped policy (by rules) exported for each
 * target, then the proof that the target's own semantics give MicroLab's truth table, timed
 * together and apart. Printed, never asserted (the target: under 2 s together).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { exportKubernetes } from '../electron/export';
import { inventoryOf } from '../electron/export/shop';
import type { ExportTarget } from '../electron/export/types';
import { EXPORT_TARGETS } from '../electron/export/types';
import { prove } from '../electron/export/verify/equivalence';
import { parsePolicy } from '../electron/firewall/policy';
import { labsDir } from '../electron/paths';
import { deployments } from '../electron/topology/declarations';
import { report, timeRuns } from './lib';

const RUNS = 10;
const ACCEPT_ALL = { rejectAsDeny: true, dropLog: true, dropMonitor: true, inClusterOnly: true };

export async function benchExport(): Promise<void> {
  const dir = path.join(labsDir(), 'policies');
  const shipped = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((file) => ({ file, policy: parsePolicy(readFileSync(path.join(dir, file), 'utf8'), file) }))
    .sort((a, b) => b.policy.rules.length - a.policy.rules.length || a.file.localeCompare(b.file));
  const { file, policy } = shipped[0]!;
  const deployment = deployments[file.startsWith('monolith') ? 'monolith' : 'microservices'];
  const inventory = inventoryOf(deployment);
  console.log(
    `export: ${file} (${policy.rules.length} rules, ${inventory.length} workloads), the shop and the policy, then the proof`,
  );
  for (const target of EXPORT_TARGETS as readonly ExportTarget[]) {
    const once = () => {
      const result = exportKubernetes(deployment, policy, { target, accepts: ACCEPT_ALL });
      const text = result.files.find((f) => f.name === `policy/${target}.yaml`)!.text;
      return { result, proof: prove(target, policy, inventory, text, result.namespace) };
    };
    const { proof } = once();
    const exportOnly = await timeRuns(
      RUNS,
      async () => exportKubernetes(deployment, policy, { target, accepts: ACCEPT_ALL }),
      1,
    );
    const together = await timeRuns(RUNS, async () => once(), 1);
    report({ name: `  ${target}: export`, unit: 'ms', samples: exportOnly });
    report({
      name: `  ${target}: export + proof (${proof.rows} rows, ${proof.mismatches.length} mismatches)`,
      unit: 'ms',
      samples: together,
    });
  }
}
