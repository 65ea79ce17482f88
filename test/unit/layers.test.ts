/**
 * The layer rule (.dependency-cruiser.cjs, run by `npm run lint` on the real tree) fires:
 * dependency-cruiser, with the project's own configuration, on a fixture that breaks each
 * rule once and holds two circles (test/fixtures/layers).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const fixture = path.join(root, 'test/fixtures/layers');
const bin = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

/** Runs dependency-cruiser on the fixture with the project's configuration. */
function cruise(outputType: 'err' | 'json') {
  const config = path.join(root, '.dependency-cruiser.cjs');
  return spawnSync(
    process.execPath,
    [bin, '--config', config, '--output-type', outputType, 'electron', 'renderer'],
    { cwd: fixture, encoding: 'utf8' },
  );
}

// Each run of dependency-cruiser takes seconds on a busy machine.
const CRUISE_MS = 120_000;

describe('the layer rule', () => {
  let violations: Violation[] = [];
  let asLint: ReturnType<typeof cruise>;
  beforeAll(() => {
    const report = JSON.parse(cruise('json').stdout) as { summary: { violations: Violation[] } };
    violations = report.summary.violations;
    asLint = cruise('err');
  }, CRUISE_MS);
  const broken = (rule: string) =>
    violations
      .filter((v) => v.rule.name === rule)
      .map((v) => `${v.from} -> ${v.to}`)
      .sort();

  it('fails the check as `npm run lint` runs it: non-zero exit, the rule named', () => {
    expect(asLint.status).not.toBe(0);
    expect(asLint.stdout).toContain('no-circular');
    expect(violations.every((v) => v.rule.severity === 'error')).toBe(true);
  });

  it('has a failing fixture for every rule of the configuration', async () => {
    const config = (await import(path.join(root, '.dependency-cruiser.cjs'))) as {
      default: { forbidden: { name: string }[] };
    };
    const rules = config.default.forbidden.map((r) => r.name).sort();
    expect([...new Set(violations.map((v) => v.rule.name))].sort()).toEqual(rules);
  });

  it('finds both circles (one violation each), type-only imports included', () => {
    expect(broken('no-circular')).toEqual([
      'electron/api/contract.ts -> electron/engine/types.ts',
      'electron/firewall/router.ts -> electron/topology/apply.ts',
    ]);
  });

  it('names each layer violation by its rule', () => {
    expect(broken('floor-imports-nothing-above')).toEqual(['electron/errors.ts -> electron/api/contract.ts']);
    expect(broken('domain-never-imports-api')).toEqual([
      'electron/probe/matrix.ts -> electron/api/contract.ts',
    ]);
    expect(broken('engine-stays-below-the-domain')).toEqual([
      'electron/engine/deploy.ts -> electron/topology/apply.ts',
    ]);
    expect(broken('topology-never-imports-firewall')).toEqual([
      'electron/topology/apply.ts -> electron/firewall/router.ts',
    ]);
    expect(broken('firewall-meets-topology-narrowly')).toEqual([
      'electron/firewall/router.ts -> electron/topology/apply.ts',
    ]);
    expect(broken('firewall-never-imports-probe')).toEqual([
      'electron/firewall/router.ts -> electron/probe/matrix.ts',
    ]);
    expect(broken('export-stays-above-the-domain')).toEqual([
      'electron/probe/matrix.ts -> electron/export/manifests.ts',
    ]);
    expect(broken('target-semantics-stand-alone')).toEqual([
      'electron/export/verify/networkpolicy.ts -> electron/export/manifests.ts',
    ]);
    expect(broken('api-never-imports-services')).toEqual([
      'electron/api/local.ts -> electron/cli.ts',
      'electron/api/local.ts -> electron/services/index.ts',
    ]);
    expect(broken('nothing-imports-an-edge')).toEqual(['electron/api/local.ts -> electron/cli.ts']);
    expect(broken('labs-runner-only-through-the-api')).toEqual([
      'electron/labs/checks.ts -> electron/probe/matrix.ts',
      'electron/labs/checks.ts -> electron/services/index.ts',
    ]);
    expect(broken('only-services-and-edges-use-the-runner')).toEqual([
      'electron/api/local.ts -> electron/labs/runner.ts',
    ]);
    expect(broken('class-stays-above-the-runner')).toEqual([
      'electron/api/local.ts -> electron/class/host.ts',
    ]);
    expect(broken('class-imports-no-domain-module')).toEqual([
      'electron/class/host.ts -> electron/probe/matrix.ts',
    ]);
    expect(broken('renderer-only-through-the-contract')).toEqual([
      'renderer/app.ts -> electron/probe/matrix.ts',
    ]);
    expect(broken('renderer-values-from-plain-modules')).toEqual([
      'renderer/load.ts -> electron/api/contract.ts',
    ]);
  });
});
