/**
 * An engine restart with no MicroLab process running (issue 7, part 3): dockerd stops, every
 * container with it, and starts again. The holders and the firewall agent come back by their
 * restart policy; each holder's new namespace is closed from its first step; the agent loads
 * each pod's table again and only then restarts its app into it. So after the restart the
 * policy holds as before, and nothing ran unfiltered in between.
 *
 * This test stops and starts the machine's dockerd (it reads dockerd's own command line and
 * starts it again the same way), so it runs only as its own vitest project when
 * MICROLAB_ENGINE_RESTART=1: `.ci/run` runs it last, on the engine it started itself
 * (`MICROLAB_ENGINE_RESTART=1 npx vitest run --project engine-restart`). Root, Linux, a local
 * dockerd only.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localApi } from '../../electron/api/local';
import { LABEL } from '../../electron/engine/labels';
import { findAgent } from '../../electron/firewall/agent';
import { execIn } from '../../electron/engine/exec';
import { listSidecars } from '../../electron/firewall/sidecar';
import { labsDir } from '../../electron/paths';
import { createServices } from '../../electron/services';
import { docker, outsiderReaches, until } from '../integration/support';

const project = 'microlab-it-engine-restart';
process.env.MICROLAB_STATE_DIR = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-engine-restart-'));
const services = createServices({ project });
const api = localApi(services);
/** A rule of monolith-segmented.yaml: its comment is in every table that policy compiled. */
const POLICY_MARK = 'db-initiates-nothing';

/** dockerd's process id and command line (from /proc), or a clear error. */
function findDockerd(): { pid: number; argv: string[] } {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (() => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      } catch {
        return [];
      }
    })();
    if (argv[0] && path.basename(argv[0]) === 'dockerd') return { pid: Number(entry), argv };
  }
  throw new Error('no dockerd runs on this machine: this test restarts a local dockerd');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops dockerd (SIGTERM, as a service manager does), starts it again the same way; ms it was away. */
async function restartEngine(): Promise<{ engineUpAt: number }> {
  const { pid, argv } = findDockerd();
  process.kill(pid, 'SIGTERM');
  await until(
    'dockerd stopped',
    async () => alive(pid),
    (a) => a === false,
    120_000,
  );
  const log = openSync(path.join(os.tmpdir(), 'microlab-engine-restart-dockerd.log'), 'a');
  spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] }).unref();
  await until(
    'dockerd answering',
    () => docker.ping().then(() => true),
    (ok) => ok === true,
    60_000,
  );
  return { engineUpAt: Date.now() };
}

interface Pod {
  app: string;
  holder: string;
}

/** The project's pods: each workload container and the holder whose namespace it joined. */
async function pods(): Promise<Pod[]> {
  const apps = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=workload`] },
  });
  return apps.map((a) => ({
    app: a.Names[0]!.slice(1),
    holder: (a.HostConfig?.NetworkMode ?? '').replace(/^container:/, ''),
  }));
}

async function tableOf(holder: string): Promise<string> {
  const r = await execIn(docker, holder, ['nft', 'list', 'table', 'inet', 'microlab']);
  return r.exitCode === 0 ? r.output : '';
}

beforeAll(async () => {
  await api.call('resources:down', {});
  await api.run('deploy:up', { deployment: 'monolith', port: 0 });
  const applied = await api.call('policy:apply', {
    file: path.join(labsDir(), 'policies', 'monolith-segmented.yaml'),
  });
  expect(applied.report.failed).toBe(0);
  // From here on no MicroLab process watches: these services never subscribed to events.
});

afterAll(async () => {
  services.firewall.close();
  await api.call('resources:down', {}).catch(() => undefined);
});

describe('an engine restart with no MicroLab process running', () => {
  it('brings every pod back with its table before its app, and the policy holds as before', async () => {
    const before = await pods();
    expect(before.length).toBe(4);
    expect(await outsiderReaches(project, 'shop-db', 5432)).toBe(false);

    const { engineUpAt } = await restartEngine();

    // Every app runs again, in its holder, and every holder holds the policy's table.
    const after = await until(
      'every pod back with the policy',
      async () => {
        const now = await pods();
        const states = await Promise.all(
          now.map(async (p) => {
            const [app, holder] = await Promise.all([
              docker.getContainer(p.app).inspect(),
              docker.getContainer(p.holder).inspect(),
            ]);
            const table = holder.State.Running ? await tableOf(p.holder) : '';
            return { ...p, app, holder, ready: app.State.Running && table.includes(POLICY_MARK) };
          }),
        );
        return states;
      },
      (states) => Array.isArray(states) && states.length === 4 && states.every((s) => s.ready),
      120_000,
    );
    const back = Date.now();
    for (const s of after) {
      // The app started again after its holder did (its namespace's first step is a closed table).
      expect(Date.parse(s.app.State.StartedAt)).toBeGreaterThanOrEqual(Date.parse(s.holder.State.StartedAt));
      expect(Date.parse(s.app.State.StartedAt)).toBeGreaterThan(engineUpAt - 60_000);
    }
    console.log(`every pod back with the policy's table ${back - engineUpAt} ms after the engine answered`);

    // The policy holds as before: denied stays denied, allowed works.
    expect(await outsiderReaches(project, 'shop-db', 5432)).toBe(false);
    const jumpbox = await execIn(docker, `${project}-jumpbox-1`, ['nc', '-z', '-w', '2', 'shop-db', '5432']);
    expect(jumpbox.exitCode).not.toBe(0);
    const status = await until(
      'the shop healthy',
      () => api.call('deploy:status', {}),
      (s) => s.healthy === true,
      120_000,
    );
    const reply = await fetch(status.storefront!);
    expect(reply.status).toBe(200);

    // The agent came back too (restart `always`), and every holder runs.
    expect((await findAgent(docker, project))?.State).toBe('running');
    const firewall = await listSidecars(docker, project);
    expect(firewall.filter((s) => s.holder && s.running)).toHaveLength(4);
  });
});
