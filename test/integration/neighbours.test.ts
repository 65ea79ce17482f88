/**
 * The shop's neighbours and the blast radius, on the real engine: the jumpbox and the
 * reporting job come up healthy in both deployments, flat and behind the perimeter; the
 * reporting job's flow is open under both segmented policies and closed by a bare default
 * deny; and the blast radius of a compromised jumpbox is counted from probes inside it and
 * equals what the evaluator expects: everything under a flat policy, only what its rules
 * allow (no database) under the segmented one, and its whole segment behind a perimeter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentName, Layout } from '../../electron/api/contract';
import { execIn as execInContainer } from '../../electron/engine/exec';
import { SAME_SEGMENT } from '../../electron/firewall/perimeter';
import type { BlastRadius } from '../../electron/probe/blast-radius';
import { policyPath } from '../shop-policies';
import type { Lab } from './shop-support';
import { lab, prepare } from './shop-support';
import { docker } from './support';

const project = 'microlab-it-neighbours';
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-neighbours-'));
process.env.MICROLAB_STATE_DIR = stateDir;

const BARE_DEFAULT_DENY = `name: bare-default-deny
description: A careless first policy; nothing is allowed.
mode: enforce
defaultAction: deny
`;

let l: Lab;

beforeAll(async () => {
  l = lab(project);
  await l.call('resources:down', {});
  await prepare(l);
});

afterAll(async () => {
  l.services.firewall.close();
  await l.call('resources:down', {});
  rmSync(stateDir, { recursive: true, force: true });
});

async function up(deployment: DeploymentName, layout: Layout): Promise<void> {
  await l.run('deploy:up', { deployment, port: 0, layout });
  const status = await l.call('deploy:status', {});
  expect(status).toMatchObject({ deployment, layout, healthy: true });
  const neighbours = status.workloads.filter((w) => ['jumpbox', 'reporting'].includes(w.workload));
  expect(neighbours.map((w) => [w.workload, w.kind, w.health, w.labels.tier])).toEqual([
    ['jumpbox', 'tool', 'healthy', 'ops'],
    ['reporting', 'app', 'healthy', 'analytics'],
  ]);
  const owner = deployment === 'monolith' ? 'shop' : 'orders';
  expect(status.calls).toContainEqual({ src: 'reporting', dst: owner, port: 8080 });
  expect(status.calls).toContainEqual({
    src: 'jumpbox',
    dst: status.workloads.find((w) => w.entry)!.workload,
    port: 8080,
  });
}

async function containerOf(workload: string): Promise<string> {
  const status = await l.call('deploy:status', {});
  const found = status.workloads.find((w) => w.workload === workload);
  if (!found) throw new Error(`no ${workload}`);
  return found.container;
}

/** Runs a command in a workload's own container (as its user); resolves with stdout. */
async function execIn(workload: string, cmd: string[]): Promise<string> {
  return (await execInContainer(docker, await containerOf(workload), cmd, { timeoutMs: 60_000 })).stdout;
}

interface LastReport {
  at: string;
  ok: boolean;
  totals?: { orders: number; revenue: number; currency: string };
  error?: string;
}

/** The reporting job's last call, read from its own port inside its container. */
async function lastReport(): Promise<LastReport> {
  return JSON.parse(
    await execIn('reporting', ['curl', '-sS', '-m', '2', 'http://127.0.0.1:8080/report']),
  ) as LastReport;
}

/** Waits for a report made after `since` and returns it. */
async function reportAfter(since: string): Promise<LastReport> {
  for (let i = 0; i < 100; i++) {
    const report = await lastReport();
    if (report.at > since) return report;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no report from the reporting job after ${since}`);
}

async function applyFile(file: string): Promise<void> {
  const result = await l.call('policy:apply', { file: policyPath(file) });
  expect(result.report.failed).toBe(0);
}

async function blast(workload: string): Promise<BlastRadius> {
  const r = await l.call('blast:radius', { workload });
  const mismatches = r.flows
    .filter((f) => !f.match)
    .map((f) => `${f.workload}:${f.port.port} expected ${f.expected}, observed ${f.observed} (${f.ruleId})`);
  expect({ workload, mismatches }).toEqual({ workload, mismatches: [] });
  expect(r.observed).toEqual(r.expected);
  console.log(`${r.summary} in ${r.durationMs} ms`);
  return r;
}

async function reportingFlow(deployment: DeploymentName): Promise<void> {
  const owner = deployment === 'monolith' ? 'shop' : 'orders';
  await applyFile(`${deployment}-segmented.yaml`);
  let since = new Date().toISOString();
  expect(await reportAfter(since)).toMatchObject({ ok: true, totals: { currency: 'EUR' } });
  const r = await blast('reporting');
  expect(r.flows.find((f) => f.workload === owner && f.port.port === 8080)).toMatchObject({
    observed: 'connected',
    ruleId: deployment === 'monolith' ? 'reporting-to-app' : 'reporting-to-orders',
  });
  expect(r.observed.databases).toBe(0);

  await l.call('policy:apply', { text: BARE_DEFAULT_DENY });
  since = new Date().toISOString();
  const failed = await reportAfter(since);
  expect(failed.ok).toBe(false);
  expect(failed.error).toMatch(/no answer|timed out/);
  const denied = await blast('reporting');
  expect(denied.flows.find((f) => f.workload === owner)).toMatchObject({
    observed: 'timeout',
    ruleId: 'default',
  });
  expect(denied.observed.reached).toEqual([]);

  await applyFile(`${deployment}-segmented.yaml`);
  since = new Date().toISOString();
  expect((await reportAfter(since)).ok).toBe(true);
}

describe('the monolith with its neighbours', () => {
  beforeAll(async () => {
    await up('monolith', 'flat');
  });

  it("keeps the app's database credentials in its environment, where a foothold can read them; the operator's on the jumpbox", async () => {
    const info = await docker.getContainer(await containerOf('shop')).inspect();
    const url = info.Config.Env.find((e) => e.startsWith('DATABASE_URL='))!;
    // The deployment's own password: random, the same in the app's URL, the operator's file and the database.
    const password = /^DATABASE_URL=postgres:\/\/shop:([a-z2-9]{10})@shop-db:5432\/postgres$/.exec(url)?.[1];
    expect(password, url).toBeDefined();
    expect(info.Config.Labels['io.microlab.db-password']).toBe(password);
    const environ = await execIn('shop', ['sh', '-c', "tr '\\0' '\\n' < /proc/1/environ"]);
    expect(environ).toContain(url);
    expect((await execIn('jumpbox', ['sh', '-c', 'cat "$HOME/.pgpass"'])).trim()).toBe(
      `shop-db:5432:*:shop:${password}`,
    );
    // The image's own password no longer opens the database.
    const old = await execIn('jumpbox', [
      'sh',
      '-c',
      "PGPASSWORD=shop psql -w -h shop-db -U shop postgres -tAc 'select 1' 2>&1; true",
    ]);
    expect(old).toMatch(/password authentication failed/);
    // ... and the jumpbox has the client to use them.
    const tools = await execIn('jumpbox', ['sh', '-c', 'for t in curl nc psql nft; do command -v $t; done']);
    expect(
      tools
        .trim()
        .split('\n')
        .map((p) => path.basename(p)),
    ).toEqual(['curl', 'nc', 'psql', 'nft']);
  });

  it('flat: the jumpbox reaches every workload, the database included, and uses the credentials', async () => {
    await applyFile('monolith-flat.yaml');
    const r = await blast('jumpbox');
    expect(r.observed).toEqual({ reached: ['reporting', 'shop', 'shop-db'], databases: 1 });
    expect(r.summary).toBe('jumpbox reaches 3 of 3 workloads (1 database)');
    // The operator's saved login (~/.pgpass) is all psql needs.
    const psql = await execIn('jumpbox', [
      'psql',
      '-h',
      'shop-db',
      '-U',
      'shop',
      'postgres',
      '-tAc',
      'select 42',
    ]);
    expect(psql.trim()).toBe('42');
  });

  it('segmented: the jumpbox reaches only the app on 8080, no database', async () => {
    await applyFile('monolith-segmented.yaml');
    const r = await blast('jumpbox');
    expect(r.observed).toEqual({ reached: ['shop'], databases: 0 });
    expect(r.flows.find((f) => f.workload === 'shop')?.ruleId).toBe('operator-health');
    expect(r.summary).toBe('jumpbox reaches 1 of 3 workloads (0 databases)');
  });

  it("the reporting job's flow is allowed by the segmented policy and denied by a bare default deny", async () => {
    await reportingFlow('monolith');
  });

  it('behind the perimeter: healthy, and the jumpbox reaches its whole segment whatever the policy says', async () => {
    await up('monolith', 'perimeter');
    await applyFile('monolith-segmented.yaml');
    const r = await blast('jumpbox');
    // shop and reporting share its segment (app): the segmented policy denies jumpbox -> reporting, the perimeter never sees it
    expect(r.observed).toEqual({ reached: ['reporting', 'shop'], databases: 0 });
    expect(r.flows.find((f) => f.workload === 'reporting')?.ruleId).toBe(SAME_SEGMENT);
    expect(r.flows.find((f) => f.workload === 'shop-db')).toMatchObject({
      observed: 'timeout',
      ruleId: 'default',
    });
  });
});

describe('the microservices with their neighbours', () => {
  it('behind the perimeter: healthy, and the jumpbox reaches every workload of its segment, databases included', async () => {
    await up('microservices', 'perimeter');
    await applyFile('microservices-segmented.yaml');
    const r = await blast('jumpbox');
    const sameSegment = ['cart', 'cart-db', 'catalog', 'catalog-db', 'orders', 'orders-db', 'reporting'];
    expect(r.observed).toEqual({ reached: [...sameSegment, 'gateway'].sort(), databases: 3 });
    for (const w of sameSegment) expect(r.flows.find((f) => f.workload === w)?.ruleId).toBe(SAME_SEGMENT);
    expect(r.flows.find((f) => f.workload === 'gateway')?.ruleId).toBe('operator-health');
    expect(r.flows.find((f) => f.workload === 'payments-db')).toMatchObject({ observed: 'timeout' });
  });

  it('flat: the jumpbox reaches every workload, the five databases included', async () => {
    await up('microservices', 'flat');
    await applyFile('microservices-flat.yaml');
    const r = await blast('jumpbox');
    expect(r.summary).toBe('jumpbox reaches 12 of 12 workloads (5 databases)');
  });

  it('segmented: the jumpbox reaches only the gateway on 8080, no database', async () => {
    await applyFile('microservices-segmented.yaml');
    const r = await blast('jumpbox');
    expect(r.observed).toEqual({ reached: ['gateway'], databases: 0 });
    expect(r.summary).toBe('jumpbox reaches 1 of 12 workloads (0 databases)');
  });

  it("the reporting job's flow is allowed by the segmented policy and denied by a bare default deny", async () => {
    await reportingFlow('microservices');
  });

  it('refuses a workload that does not run, naming those that do', async () => {
    await expect(l.call('blast:radius', { workload: 'mainframe' })).rejects.toThrow(
      /no running workload "mainframe"/,
    );
  });
});
