/**
 * Fail closed from the first packet, and enforcement with no MicroLab process watching
 * (issue 7, parts 2 and 3), on the real microservices under the segmented policy:
 *   - a new replica's namespace holds its table before any of its processes run: a loop in
 *     the new catalog replica trying `nc -z gateway 8080` never connects, over 20 scale-outs,
 *     and after each scale-in no table holds the removed replica's address;
 *   - with nothing but the agent on the engine (this process never watches): `docker
 *     restart`, `docker kill` + `docker start`, a killed holder (the pod's sidecar) and a
 *     replica removed by hand all leave every table right; an outsider on the lab network
 *     never reaches the workload.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL } from '../../electron/engine/labels';
import { findAgent } from '../../electron/firewall/agent';
import { tableNamesAddress } from '../../electron/firewall/compile';
import { listInstances } from '../../electron/firewall/instances';
import { execIn } from '../../electron/engine/exec';
import { HOLDER_LABEL, listSidecars } from '../../electron/firewall/sidecar';
import { policyPath } from '../shop-policies';
import { docker, outsiderReaches, until } from './support';
import type { Lab } from './shop-support';
import { lab, prepare } from './shop-support';

const project = 'microlab-it-pods';
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-pods-'));
process.env.MICROLAB_STATE_DIR = stateDir;
/** How many scale-outs race the loop (MICROLAB_POD_RACES lowers it on a loaded machine; never below 1). */
const RACES = Math.max(1, Number(process.env.MICROLAB_POD_RACES ?? 20));

let l: Lab;

/** The table text in a holder's namespace ('' when there is none). */
async function tableOf(holderId: string): Promise<string> {
  const r = await execIn(docker, holderId, ['nft', 'list', 'table', 'inet', 'microlab']);
  return r.exitCode === 0 ? r.output : '';
}

/** Every running holder's table, by holder name. */
async function tables(): Promise<Map<string, string>> {
  const holders = (await listSidecars(docker, project)).filter((s) => s.holder && s.running);
  return new Map(await Promise.all(holders.map(async (h) => [h.name, await tableOf(h.id)] as const)));
}

async function catalogAddress(container: string): Promise<string> {
  const i = (await listInstances(docker, project)).find((x) => x.containerName === container);
  if (!i) throw new Error(`${container} is not running`);
  return Object.values(i.addresses)[0]!;
}

/** A rule only a catalog replica's policy table holds (not the closed table a holder starts with). */
const POLICY_MARK = 'no-callbacks-to-gateway';
/** The policy's default rule: every workload's policy table holds it, the closed table does not. */
const DEFAULT_MARK = 'comment "default deny"';

beforeAll(async () => {
  l = lab(project);
  await l.call('resources:down', {});
  await prepare(l);
  await l.run('deploy:up', { deployment: 'microservices', port: 0 });
  await l.call('policy:apply', { file: policyPath('microservices-segmented.yaml') });
});

afterAll(async () => {
  l.services.firewall.close();
  await l.call('resources:down', {});
  rmSync(stateDir, { recursive: true, force: true });
});

describe('pods: a namespace holds its table before any process of its workload runs', () => {
  it('every workload runs in a holder that holds the policy; the agent runs on the engine', async () => {
    const instances = await listInstances(docker, project);
    expect(instances.length).toBeGreaterThan(5);
    expect(instances.filter((i) => !i.holder).map((i) => i.containerName)).toEqual([]);
    const agent = await findAgent(docker, project);
    expect(agent?.State).toBe('running');
    for (const [holder, text] of await tables())
      expect({ holder, policy: text.includes(DEFAULT_MARK) }).toEqual({ holder, policy: true });
  });

  it(
    `scaling catalog out ${RACES} times: a loop in the new replica never reaches the gateway, and scale-in leaves its address in no table`,
    async () => {
      for (let run = 1; run <= RACES; run++) {
        const outputs: Promise<string>[] = [];
        const tablesAtStart: Promise<string>[] = [];
        const stream = (await docker.getEvents({
          filters: {
            type: ['container'],
            event: ['start'],
            label: [`${LABEL.project}=${project}`, `${LABEL.role}=workload`, `${LABEL.workload}=catalog`],
          },
        })) as NodeJS.ReadableStream & { destroy(): void };
        stream.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString().split('\n').filter(Boolean)) {
            const id = (JSON.parse(line) as { id: string }).id;
            // At the app's first instant: what its namespace holds, and a loop trying the gateway.
            tablesAtStart.push(
              docker
                .getContainer(id)
                .inspect()
                .then((i) => tableOf(i.HostConfig.NetworkMode!.slice('container:'.length))),
            );
            outputs.push(
              execIn(docker, id, [
                'sh',
                '-c',
                'for i in 1 2 3 4 5 6 7 8; do (nc -z -w 1 gateway 8080 && echo CONNECTED) & sleep 0.1; done; wait; echo tried',
              ]).then((r) => r.output),
            );
          }
        });
        await l.run('deploy:scale', { service: 'catalog', replicas: 2 });
        const address = await catalogAddress(`${project}-catalog-2`);
        await until(
          'the start event',
          async () => outputs.length,
          (n) => n > 0,
          10_000,
        );
        stream.destroy();
        for (const text of await Promise.all(tablesAtStart))
          expect({ run, policy: text.includes(POLICY_MARK) }).toEqual({ run, policy: true });
        for (const out of await Promise.all(outputs)) {
          expect(out).toContain('tried');
          expect({ run, out }).toEqual({ run, out: expect.not.stringContaining('CONNECTED') });
        }
        await l.run('deploy:scale', { service: 'catalog', replicas: 1 });
        const holding = [...(await tables())].filter(
          ([, text]) =>
            text.includes(`${address} `) || text.includes(`${address},`) || text.includes(`${address} }`),
        );
        expect({ run, holding: holding.map(([h]) => h) }).toEqual({ run, holding: [] });
      }
      // Each run scales out and in on the real engine: up to a minute each on a loaded machine.
    },
    RACES * 60_000,
  );
});

describe('with no MicroLab process watching, the agent keeps every table current', () => {
  const app = `${project}-catalog-1`;
  const holder = `${app}-fw`;

  const expectClosedToOutsiders = async () => {
    expect(await tableOf(holder)).toContain(POLICY_MARK);
    expect(await outsiderReaches(project, await catalogAddress(app), 8080)).toBe(false);
  };

  it('docker restart of a workload keeps its namespace and its table', async () => {
    const before = await docker.getContainer(holder).inspect();
    await docker.getContainer(app).restart({ t: 1 });
    expect((await docker.getContainer(holder).inspect()).State.StartedAt).toBe(before.State.StartedAt);
    await expectClosedToOutsiders();
  });

  it('docker kill and docker start of a workload: the same', async () => {
    await docker.getContainer(app).kill();
    await docker.getContainer(app).start();
    await expectClosedToOutsiders();
  });

  it('a killed holder (the pod sidecar) comes back closed, gets its table, and its app restarts into it', async () => {
    const before = await docker.getContainer(app).inspect();
    await docker.getContainer(holder).kill();
    await until(
      'the pod restored',
      async () => {
        const [h, a] = await Promise.all([
          docker.getContainer(holder).inspect(),
          docker.getContainer(app).inspect(),
        ]);
        return h.State.Running &&
          a.State.Running &&
          Date.parse(a.State.StartedAt) > Date.parse(before.State.StartedAt)
          ? await tableOf(h.Id)
          : '';
      },
      (text) => text.includes(POLICY_MARK),
    );
    await expectClosedToOutsiders();
    const status = await until(
      'catalog healthy again',
      () => l.call('deploy:status', {}),
      (s) => s.workloads.find((w) => w.container === app)?.health === 'healthy',
      120_000,
    );
    expect(status.workloads.find((w) => w.container === app)?.state).toBe('running');
  });

  it('a replica removed by hand: within moments no table holds its address', async () => {
    await l.run('deploy:scale', { service: 'catalog', replicas: 2 });
    const replica = `${project}-catalog-2`;
    const address = await catalogAddress(replica);
    const holds = async () =>
      [...(await tables())]
        .filter(([name, text]) => !name.startsWith(replica) && tableNamesAddress(text, address))
        .map(([name]) => name);
    expect((await holds()).length).toBeGreaterThan(0);
    await docker.getContainer(replica).remove({ force: true });
    await until('peers dropping the address', holds, (h) => Array.isArray(h) && h.length === 0);
    // Its holder, alone, is no workload (nobody trusts it); the agent removes it.
    const holderLeft = async () =>
      (
        await docker.listContainers({
          all: true,
          filters: { label: [`${LABEL.project}=${project}`, HOLDER_LABEL] },
        })
      ).some((c) => c.Names[0] === `/${replica}-fw`);
    await until('the orphaned holder removed', holderLeft, (left) => left === false);
  });
});
