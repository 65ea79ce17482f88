/**
 * The segment firewall on the real engine, on synthetic workloads: pods like the shop's (a
 * holder with the table, bench/synthetic.ts) whose app is a base-image container labeled as a
 * workload that listens on its ports with nc, no capabilities. For each policy, the probes'
 * observed matrix must equal the evaluator's expected one, cell for cell.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelsFor } from '../../electron/engine/labels';
import { tableNamesAddress } from '../../electron/firewall/compile';
import { Enforcer } from '../../electron/firewall/enforcer';
import { watchEnforcer } from '../../electron/firewall/watcher';
import { withMode } from '../../electron/firewall/evaluate';
import { listFlows } from '../../electron/firewall/flows';
import { readCounters } from '../../electron/firewall/counters';
import { listInstances } from '../../electron/firewall/instances';
import { parsePolicy } from '../../electron/firewall/policy';
import { SidecarChannel } from '../../electron/firewall/sidecar';
import { execIn } from '../../electron/engine/exec';
import type { Policy } from '../../electron/firewall/policy';
import { PROBE_SCRIPT, runProbe } from '../../electron/probe/matrix';
import type { ProbeReport } from '../../electron/probe/matrix';
import type { Workload } from '../../electron/topology/workload';
import type { SyntheticPod } from '../../bench/synthetic';
import { startSyntheticPod } from '../../bench/synthetic';
import { cli, docker, until } from './support';
import { lab } from './shop-support';

const project = 'microlab-it-fw';
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-fw-'));
process.env.MICROLAB_STATE_DIR = stateDir;
let network = '';

const WORKLOADS: Workload[] = [
  { name: 'web', labels: { tier: 'web', app: 'demo' }, ports: [{ port: 8080, protocol: 'tcp' }] },
  {
    name: 'api',
    labels: { tier: 'api', app: 'demo' },
    ports: [
      { port: 8080, protocol: 'tcp' },
      { port: 9000, protocol: 'tcp' },
    ],
  },
  { name: 'db', labels: { tier: 'db', app: 'demo' }, ports: [{ port: 5432, protocol: 'tcp' }] },
];

async function startWorkload(w: Workload, replica: number, policy?: Policy): Promise<SyntheticPod> {
  const pod = await startSyntheticPod(docker, project, enforcer, network, w, replica, policy);
  // The listeners start in the background: a probe right away could find a port not yet open
  // (CI: db -> api-2:8080 timed out once with no policy at all).
  for (const p of w.ports)
    await until(
      `${w.name}-${replica} listening on ${p.port}`,
      () => execIn(docker, pod.holder, ['nc', '-z', '127.0.0.1', String(p.port)]),
      (r) => r.exitCode === 0,
      20_000,
    );
  return pod;
}

/** A free /24 from the lab pool (198.19.0.0/16) that no network uses yet. */
async function freeSubnet(): Promise<string> {
  const used = new Set(
    (await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet)),
  );
  for (let octet = 240; octet > 100; octet--) {
    const subnet = `198.19.${octet}.0/24`;
    if (!used.has(subnet)) return subnet;
  }
  throw new Error('no free /24 in 198.19.0.0/16');
}

/**
 * The flow log since `since`, once it holds at least `count` events of each [src, dst, port]
 * (the kernel's trace reaches the log through the holder's monitor and resolver, a moment after
 * the probe's packet): at most 10 s.
 */
function loggedFlows(since: string, wanted: [string, string, number, number][]) {
  return until(
    'the flow log to hold every probed flow',
    () => listFlows(docker, project, { since }),
    (flows) =>
      Array.isArray(flows) &&
      wanted.every(
        ([src, dst, port, count]) =>
          flows.filter((f) => f.src === src && f.dst === dst && f.port === port).length >= count,
      ),
    10_000,
  );
}

function expectMatrixMatches(report: ProbeReport): void {
  const mismatches = report.cells
    .filter((c) => !c.match)
    .map(
      (c) =>
        `${c.src} -> ${c.dstContainer}:${c.port.port} expected ${c.expected}, observed ${c.observed} (${c.ruleId})`,
    );
  expect(mismatches).toEqual([]);
  expect(report.cells.every((c) => c.observed !== 'untested' && c.observed !== 'error')).toBe(true);
}

function outcomes(report: ProbeReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of report.cells) out[`${c.src}>${c.dst}:${c.port.port}`] = c.observed;
  return out;
}

const SEGMENTED = `
name: three-tier
mode: enforce
defaultAction: deny
segments:
  web: { selector: { tier: web } }
  api: { selector: { tier: api } }
  db: { selector: { tier: db } }
rules:
  - { id: web-to-api, from: { segment: web }, to: { segment: api }, ports: [8080], action: allow }
  - { id: api-to-db, from: { segment: api }, to: { segment: db }, ports: [5432], action: allow }
`;

const REJECTING = `
name: reject-admin
defaultAction: allow
segments:
  api: { selector: { tier: api } }
rules:
  - { id: no-admin, from: any, to: { segment: api }, ports: [9000], action: reject, priority: 10 }
  - { id: no-db-from-web, from: { workload: web }, to: { selector: { tier: db } }, action: deny, priority: 20 }
  - { id: web-db-tie, from: { workload: web }, to: { workload: db }, action: allow, priority: 20 }
`;

const PARTIAL = `
name: rollout
mode: monitor
defaultAction: deny
segments:
  db: { selector: { tier: db }, mode: enforce }
  api: { selector: { tier: api } }
rules:
  - { id: api-to-db, from: { segment: api }, to: { segment: db }, ports: [5432], action: allow }
`;

let enforcer: Enforcer;

beforeAll(async () => {
  await cli(['down'], { MICROLAB_PROJECT: project });
  const subnet = await freeSubnet();
  network = `${project}-net`;
  await docker.createNetwork({
    Name: network,
    Internal: true,
    Labels: labelsFor(project, 'network'),
    IPAM: { Config: [{ Subnet: subnet }] },
  });
  enforcer = new Enforcer(docker, project);
  await Promise.all([
    startWorkload(WORKLOADS[0]!, 1),
    startWorkload(WORKLOADS[1]!, 1),
    startWorkload(WORKLOADS[1]!, 2),
    startWorkload(WORKLOADS[2]!, 1),
  ]);
});

afterAll(async () => {
  enforcer.close();
  await cli(['down'], { MICROLAB_PROJECT: project });
  rmSync(stateDir, { recursive: true, force: true });
});

describe('segment firewall on synthetic workloads', () => {
  it('with no policy, everything reaches everything', async () => {
    const report = await runProbe(docker, project, undefined);
    // One source per workload, every replica of the others and its own other replicas:
    // web -> api x2 (2 ports) + db = 5, api -> web + db + its sibling api-2 (2 ports) = 4,
    // db -> web + api x2 (2 ports) = 5.
    expect(report.cells).toHaveLength(14);
    expectMatrixMatches(report);
    expect(new Set(report.cells.map((c) => c.observed))).toEqual(new Set(['connected']));
  });

  it.each([
    ['an allowlist with default deny', SEGMENTED],
    ['reject, priorities and a deny/allow tie', REJECTING],
    ['a monitor policy with one enforcing segment', PARTIAL],
  ])('%s: the observed matrix equals the expected one, cell for cell', async (_what, text) => {
    const report = await enforcer.apply(parsePolicy(text));
    expect(report.failed).toBe(0);
    expect(report.instances).toBe(4);
    expectMatrixMatches(await runProbe(docker, project, parsePolicy(text)));
  });

  it('the matrices are not trivial: each policy gives connected, refused and timed-out cells where it should', async () => {
    await enforcer.apply(parsePolicy(SEGMENTED));
    const segmented = outcomes(await runProbe(docker, project, parsePolicy(SEGMENTED)));
    expect(segmented['web>api:8080']).toBe('connected');
    expect(segmented['web>api:9000']).toBe('timeout');
    expect(segmented['web>db:5432']).toBe('timeout');
    expect(segmented['api>db:5432']).toBe('connected');
    expect(segmented['db>web:8080']).toBe('timeout');

    await enforcer.apply(parsePolicy(REJECTING));
    const rejecting = outcomes(await runProbe(docker, project, parsePolicy(REJECTING)));
    expect(rejecting['web>api:9000']).toBe('refused');
    expect(rejecting['web>db:5432']).toBe('timeout'); // deny beats allow at the same priority
    expect(rejecting['db>web:8080']).toBe('connected');
  });

  it('a probe that cannot run in its source is an error and a mismatch, never a match', async () => {
    const policy = parsePolicy(SEGMENTED);
    await enforcer.apply(policy);
    const webHolder = (await listInstances(docker, project)).find((i) => i.name === 'web')!.holder!;
    // The real engine, except that it refuses `docker exec` in web's holder (as it does for a
    // container that is restarting): the probe from web cannot run at all.
    const refusing = new Proxy(docker, {
      get(target, prop, receiver) {
        if (prop !== 'getContainer') return Reflect.get(target, prop, receiver) as unknown;
        return (id: string) => {
          const container = target.getContainer(id);
          if (id !== webHolder) return container;
          return Object.assign(Object.create(container) as typeof container, {
            exec: () => Promise.reject(new Error(`container ${id} is restarting (injected)`)),
          });
        };
      },
    });
    const report = await runProbe(refusing, project, policy);
    const fromWeb = report.cells.filter((c) => c.src === 'web' && c.port.protocol === 'tcp');
    expect(fromWeb.length).toBeGreaterThan(0);
    for (const cell of fromWeb)
      expect(cell).toMatchObject({
        observed: 'error',
        match: false,
        detail: expect.stringContaining('restarting'),
      });
    expect(report.mismatches).toBe(fromWeb.length);
  });

  it('a denied flow is known from the kernel at once: the trace of its own dropped packet names the rule and the table', async () => {
    const policy = parsePolicy(SEGMENTED);
    await enforcer.apply(policy);
    const report = await runProbe(docker, project, policy);
    expectMatrixMatches(report);
    const cell = (r: ProbeReport, src: string, dst: string, port: number) =>
      r.cells.find((c) => c.src === src && c.dst === dst && c.port.port === port)!;
    // web has no rule to db: its own egress drops the SYN, and says so by the default rule
    expect(cell(report, 'web', 'db', 5432)).toMatchObject({
      observed: 'timeout',
      evidence: { ruleId: 'default', seenBy: 'web', direction: 'egress' },
    });
    // allowed flows are real connections, never evidence; every denied one here was traced
    for (const c of report.cells) {
      if (c.verdict === 'allowed') expect([c.observed, c.evidence]).toEqual(['connected', undefined]);
      if (c.verdict === 'denied') expect(c.evidence?.ruleId).toBe(c.ruleId);
    }

    // Monitor mode at web, enforce at db: web's egress lets the SYN out (audit), db's ingress drops it.
    const partial = parsePolicy(PARTIAL);
    await enforcer.apply(partial);
    const mixed = await runProbe(docker, project, partial);
    expectMatrixMatches(mixed);
    expect(cell(mixed, 'web', 'db', 5432)).toMatchObject({
      observed: 'timeout',
      evidence: { ruleId: 'default', seenBy: 'db', direction: 'ingress' },
    });

    // Without the trace, the same flow waits out the timeout, as before, and says nothing more.
    const waited = await runProbe(docker, project, partial, { traceDrops: false });
    expectMatrixMatches(waited);
    expect(cell(waited, 'web', 'db', 5432).observed).toBe('timeout');
    expect(waited.cells.some((c) => c.evidence)).toBe(false);
  });

  it('a new replica gets its rules, and its peers learn its address, while the enforcer watches', async () => {
    const policy = parsePolicy(SEGMENTED);
    await enforcer.apply(policy);
    const stop = watchEnforcer(enforcer, docker, project);
    try {
      const replica = await startWorkload(WORKLOADS[1]!, 3, policy);
      // Its holder loaded its table before its app existed.
      const listed = (await execIn(docker, replica.holder, ['nft', 'list', 'table', 'inet', 'microlab']))
        .output;
      expect(listed).toContain('comment "api-to-db allow"');
      // The watcher reconciles after the start event: db's table learns the new replica's address.
      const address = Object.values(
        (await listInstances(docker, project)).find((i) => i.containerName === `${project}-api-3`)!.addresses,
      )[0]!;
      const dbHolder = (await listInstances(docker, project)).find((i) => i.name === 'db')!.holder!;
      await until(
        "db's table to name api-3",
        () => execIn(docker, dbHolder, ['nft', 'list', 'table', 'inet', 'microlab']),
        (r) => tableNamesAddress(r.output, address),
        20_000,
      );
      await enforcer.reconcile();
      const report = await runProbe(docker, project, policy);
      expectMatrixMatches(report);
      // from web and db, and from its sibling api-1, on both of api's ports
      expect(report.cells.filter((c) => c.dstContainer === `${project}-api-3`).length).toBe(3 * 2);
    } finally {
      stop();
    }
  });

  it('monitor mode lets everything pass and reports would-be denials as audit, naming the rule', async () => {
    const policy = withMode(parsePolicy(SEGMENTED), 'monitor');
    const applied = await enforcer.apply(policy);
    expect(applied.tables.every((t) => t.mode === 'monitor')).toBe(true);
    const since = new Date().toISOString();
    const report = await runProbe(docker, project, policy);
    expectMatrixMatches(report);
    expect(new Set(report.cells.map((c) => c.observed))).toEqual(new Set(['connected']));
    const flows = await loggedFlows(since, [
      ['web', 'db', 5432, 1],
      ['web', 'api', 8080, 1],
    ]);
    const webToDb = flows.find((f) => f.src === 'web' && f.dst === 'db' && f.port === 5432);
    expect(webToDb).toMatchObject({ verdict: 'audit', ruleId: 'default' });
    expect(flows.find((f) => f.src === 'web' && f.dst === 'api' && f.port === 8080)).toMatchObject({
      verdict: 'allowed',
      ruleId: 'web-to-api',
    });
  });

  it('flow events name the deciding rule, one per connection; counters count per rule', async () => {
    const policy = parsePolicy(REJECTING);
    await enforcer.apply(policy);
    const since = new Date().toISOString();
    await runProbe(docker, project, policy);
    const apis = (await listInstances(docker, project)).filter((i) => i.name === 'api').length;
    expect(apis).toBeGreaterThanOrEqual(2);
    const flows = await loggedFlows(since, [
      ['web', 'api', 9000, apis],
      ['web', 'db', 5432, 1],
      ['db', 'web', 8080, 1],
    ]);
    const pick = (src: string, dst: string, port: number) =>
      flows.filter((f) => f.src === src && f.dst === dst && f.port === port);
    expect(pick('web', 'api', 9000).map((f) => [f.verdict, f.ruleId])).toEqual(
      Array(apis).fill(['rejected', 'no-admin']),
    );
    expect(pick('web', 'db', 5432).map((f) => [f.verdict, f.ruleId])).toEqual([['denied', 'no-db-from-web']]);
    expect(pick('db', 'web', 8080).map((f) => [f.verdict, f.ruleId])).toEqual([['allowed', 'default']]);

    const counters = await readCounters(docker, project);
    expect(counters.rules.find((r) => r.ruleId === 'no-admin')!.packets).toBeGreaterThan(0);
    expect(counters.workloads.every((w) => !w.error)).toBe(true);
  });

  it('an unchanged policy loads nothing again; a policy that does not parse never reaches the kernel', async () => {
    const policy = parsePolicy(SEGMENTED);
    await enforcer.apply(policy);
    const again = await enforcer.apply(policy);
    expect(again.loaded).toBe(0);
    expect(again.unchanged).toBe(again.instances);
    const before = await runProbe(docker, project, policy);
    expect(() => parsePolicy(SEGMENTED.replace('ports: [8080]', 'ports: [0]'))).toThrow(
      /port 0 is out of range/,
    );
    expect(outcomes(await runProbe(docker, project, policy))).toEqual(outcomes(before));
  });

  it('replicas of one workload: the policy decides whether siblings reach each other, and the matrix, show and explain say so', async () => {
    const l = lab(project);
    try {
      // SEGMENTED has no rule from api to api: the default denies it, between two hosts like any other
      await l.call('policy:apply', { text: SEGMENTED });
      const denied = await l.call('probe:run', {});
      expectMatrixMatches(denied);
      const siblings = denied.cells.filter((c) => c.src === 'api' && c.dst === 'api');
      // from api-1 to each other replica (api-2, and api-3 if an earlier test left it), both ports
      expect(siblings.length).toBeGreaterThanOrEqual(2);
      expect(siblings.filter((c) => c.dstContainer === `${project}-api-2`).map((c) => c.port.port)).toEqual([
        8080, 9000,
      ]);
      for (const c of siblings)
        expect([c.srcContainer, c.observed, c.ruleId]).toEqual([`${project}-api-1`, 'timeout', 'default']);
      const show = await l.call('policy:show', {});
      expect(show.flows.filter((f) => f.src === 'api' && f.dst === 'api').map((f) => f.verdict)).toEqual([
        'denied',
        'denied',
      ]);
      // a workload with one replica has no such flow (it reaches itself over loopback)
      expect(show.flows.some((f) => f.src === f.dst && f.src !== 'api')).toBe(false);
      const why = await l.call('policy:explain', { src: 'api', dst: 'api', port: 8080 });
      expect(why.verdict).toBe('denied');
      expect(why.text[0]).toMatch(/^api to api: from one replica to another/);
      expect(why.text[1]).toMatch(/^api runs [23] replicas$/);

      // one rule lets siblings talk, and only on the port it names
      await l.call('policy:apply', {
        text: `${SEGMENTED}  - { id: api-siblings, from: { segment: api }, to: { segment: api }, ports: [9000], action: allow }
`,
      });
      const allowed = await l.call('probe:run', {});
      expectMatrixMatches(allowed);
      expect(
        allowed.cells
          .filter((c) => c.src === 'api' && c.dstContainer === `${project}-api-2`)
          .map((c) => [c.port.port, c.observed]),
      ).toEqual([
        [8080, 'timeout'],
        [9000, 'connected'],
      ]);
      expect((await l.call('policy:explain', { src: 'api', dst: 'api', port: 9000 })).decision).toEqual({
        action: 'allow',
        ruleId: 'api-siblings',
      });
    } finally {
      l.services.firewall.close();
    }
  });

  it('policy clear removes every table and forgets the policy', async () => {
    const l = lab(project);
    try {
      const applied = await l.call('policy:apply', { text: SEGMENTED });
      expect(applied.report.failed).toBe(0);
      expect(Object.values(outcomes(await runProbe(docker, project, parsePolicy(SEGMENTED))))).toContain(
        'timeout',
      );
      const cleared = await l.call('policy:clear', {});
      expect(cleared.failed).toBe(0);
      expect((await l.call('policy:show', {})).source).toBeUndefined();
      const open = await l.call('probe:run', {});
      expectMatrixMatches(open);
      expect(new Set(open.cells.map((c) => c.observed))).toEqual(new Set(['connected']));
      const holder = (await listInstances(docker, project))[0]!.holder!;
      const listed = await execIn(docker, holder, ['nft', 'list', 'tables']);
      expect(listed.output).not.toContain('microlab');
    } finally {
      l.services.firewall.close();
    }
  });

  it('a holder whose own `nft -i` is gone still loads (with `nft -f`), says why a table fails, and lists its connections', async () => {
    const solo: Workload = {
      name: 'solo',
      labels: { tier: 'solo' },
      ports: [{ port: 7000, protocol: 'tcp' }],
    };
    const pod = await startWorkload(solo, 1);
    // What a holder lives with where nft has no interactive mode: its main loop finds no `nft -i`.
    const killed = await execIn(docker, pod.holder, [
      'sh',
      '-c',
      String.raw`for p in /proc/[0-9]*; do case "$(tr '\0' ' ' < $p/cmdline 2> /dev/null)" in 'nft -a -i '*) kill "$(basename "$p")" && echo killed ;; esac; done`,
    ]);
    expect(killed.output).toContain('killed');
    const channel = new SidecarChannel(docker, pod.holder);
    try {
      await channel.load(
        'table inet microlab_fallback {\n  chain c {\n    type filter hook input priority 10; policy accept;\n  }\n}',
      );
      expect((await execIn(docker, pod.holder, ['nft', 'list', 'tables'])).output).toContain(
        'table inet microlab_fallback',
      );
      await expect(channel.load('table inet microlab_fallback { chain c { junk } }')).rejects.toThrow(
        /nft -f failed: .*syntax error/,
      );
      const connected = await execIn(docker, pod.holder, ['nc', '-z', '127.0.0.1', '7000']);
      expect(connected.exitCode).toBe(0);
      expect(await channel.list()).toMatch(/dport=7000/);
    } finally {
      channel.close();
    }
  });

  it('a probe whose source port the container still holds probes from another port, and says what it observed', async () => {
    const instances = await listInstances(docker, project);
    const web = instances.find((i) => i.name === 'web')!;
    const api = instances.find((i) => i.name === 'api')!;
    const address = Object.values(api.addresses)[0]!;
    // Port 25000 taken in web's namespace, as a connection of an earlier run in TIME_WAIT takes it.
    await execIn(docker, web.holder!, ['sh', '-c', '(nc -l -p 25000 > /dev/null 2>&1 &)']);
    await until(
      'port 25000 taken in web',
      () => execIn(docker, web.holder!, ['nc', '-z', '-p', '25000', address, '8080']),
      (r) => /in use/.test(r.output),
      10_000,
    );
    const run = await execIn(docker, web.holder!, [
      'sh',
      '-c',
      PROBE_SCRIPT,
      'probe',
      '2',
      address,
      '8080',
      '25000',
    ]);
    expect(run.output.trim()).toMatch(new RegExp(`^0 ${address.replace(/\./g, '\\.')} 8080 25000 `));
  });
});
