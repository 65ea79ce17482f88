/**
 * A policy change reaches established connections (issue 7, part 1), on the real monolith:
 * under the segmented policy the app keeps a pooled connection to its database (its 2 s
 * readiness checks keep it busy); a policy that denies app -> database on 5432 must cut it,
 * so the storefront stops answering and the app turns unhealthy, while `keepEstablished`
 * keeps it (and says so). The kernel's own conntrack table is the witness.
 */
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConntrack } from '../../electron/firewall/cut';
import { execIn } from '../../electron/engine/exec';
import { listSidecars } from '../../electron/firewall/sidecar';
import { policyPath } from '../shop-policies';
import { cli, docker, until } from './support';
import type { Lab } from './shop-support';
import { lab, prepare, storefront } from './shop-support';

const project = 'microlab-it-established';
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-established-'));
process.env.MICROLAB_STATE_DIR = stateDir;
const NO_DB = path.join(stateDir, 'monolith-no-db.yaml');

let l: Lab;
let base = '';

/** The segmented policy with its app -> database rule turned into a deny. */
function writeNoDbPolicy(): void {
  const text = readFileSync(policyPath('monolith-segmented.yaml'), 'utf8')
    .replace('name: monolith-segmented', 'name: monolith-no-db')
    .replace('$schema: ./policy.schema.json\n', '');
  const at = text.indexOf('  - id: app-to-db');
  expect(at).toBeGreaterThan(0);
  writeFileSync(NO_DB, text.slice(0, at) + text.slice(at).replace('action: allow', 'action: deny'));
}

/** GET on a fresh connection; the status code, or 0 when it did not answer in time. */
function status(route: string, timeoutMs = 3000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(new URL(route, base), { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

/** Cutting, health and the pool refilling take the app's readiness period and more. */
const LIMIT_MS = 90_000;

/** The app's established connections to the database on 5432, as its namespace's conntrack holds them. */
async function appToDb(): Promise<number> {
  const sidecar = (await listSidecars(docker, project)).find((s) => s.workload === 'shop' && s.running);
  if (!sidecar) throw new Error('the app has no firewall sidecar');
  const listed = await execIn(docker, sidecar.id, ['conntrack', '-L', '-p', 'tcp', '--dport', '5432']);
  return parseConntrack(listed.output).filter((e) => e.state === 'ESTABLISHED').length;
}

async function appHealth(): Promise<string> {
  const s = await l.call('deploy:status', {});
  return s.workloads.find((w) => w.workload === 'shop')?.health ?? 'missing';
}

beforeAll(async () => {
  l = lab(project);
  await l.call('resources:down', {});
  await prepare(l);
  writeNoDbPolicy();
  await l.run('deploy:up', { deployment: 'monolith', port: 0 });
  base = await storefront(l);
});

afterAll(async () => {
  l.services.firewall.close();
  await l.call('resources:down', {});
  rmSync(stateDir, { recursive: true, force: true });
});

describe('a policy change and the connections already open', () => {
  beforeAll(async () => {
    await l.call('policy:apply', { file: policyPath('monolith-segmented.yaml') });
    await until(
      'the storefront under the segmented policy',
      () => status('/api/products'),
      (s) => s === 200,
      LIMIT_MS,
    );
    await until('the app pooled connection to its database', appToDb, (n) => n > 0, LIMIT_MS);
  });

  it('--keep-established keeps them, and says so', async () => {
    const run = await cli(['policy', 'apply', NO_DB, '--keep-established'], {
      MICROLAB_PROJECT: project,
      MICROLAB_STATE_DIR: stateDir,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Established connections were kept');
    // The database connection opened under the old policy lives on in the kernel.
    expect(await appToDb()).toBeGreaterThan(0);
    const shown = await l.call('policy:show', {});
    expect(shown.source?.keepEstablished).toBe(true);
  });

  it('by default the connections the new policy denies are cut: the storefront stops answering, the app turns unhealthy', async () => {
    await l.call('policy:apply', { file: policyPath('monolith-segmented.yaml') });
    await until(
      'the storefront back',
      () => status('/api/products'),
      (s) => s === 200,
      LIMIT_MS,
    );
    await until('the app pooled connection to its database', appToDb, (n) => n > 0, LIMIT_MS);

    const applied = await l.call('policy:apply', { file: NO_DB });
    expect(applied.report.keptEstablished).toBe(false);
    expect(applied.report.connectionsCut).toBeGreaterThan(0);
    expect(applied.report.tables.filter((t) => t.cutError)).toEqual([]);
    expect(applied.report.tables.find((t) => t.workload === 'shop')?.cut).toBeGreaterThan(0);
    expect(await appToDb()).toBe(0);

    // The flow log says which connection went, and by which rule.
    const flows = await l.call('flows:list', {});
    const cut = flows.filter((f) => f.cut);
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.every((f) => f.src === 'shop' && f.dst === 'shop-db' && f.port === 5432)).toBe(true);
    expect(cut.every((f) => f.ruleId === 'app-to-db' && f.verdict === 'denied')).toBe(true);

    // Readiness reflects reality: no 200 from the storefront, and Docker's health check says so.
    await until(
      'the storefront answering without its database',
      () => status('/api/products'),
      (s) => s !== 200,
      LIMIT_MS,
    );
    await until('the app health', appHealth, (h) => h === 'unhealthy', LIMIT_MS);
  });

  it('the CLI reports how many it cut', async () => {
    await l.call('policy:apply', { file: policyPath('monolith-segmented.yaml') });
    await until('the app healthy again', appHealth, (h) => h === 'healthy', LIMIT_MS);
    await until('the app pooled connection to its database', appToDb, (n) => n > 0, LIMIT_MS);
    const run = await cli(['policy', 'apply', NO_DB], {
      MICROLAB_PROJECT: project,
      MICROLAB_STATE_DIR: stateDir,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/[1-9]\d* established connections? the policy denies (was|were) cut/);
    // The connections were listed over the holders' open line (no exec): each answered LIST.
    const holders = (await listSidecars(docker, project)).filter((h) => h.holder && h.running);
    const logs = await Promise.all(
      holders.map(async (h) =>
        ((await docker.getContainer(h.id).logs({ stdout: true, stderr: true })) as Buffer).toString('latin1'),
      ),
    );
    expect(logs.every((log) => /microlab-listed \S+ ok/.test(log))).toBe(true);
  });
});
