import { afterAll, describe, expect, it } from 'vitest';
import type { Container } from 'dockerode';
import { baseImageName } from '../../electron/engine/images';
import { shopImageName } from '../../electron/engine/shop-image';
import { labelsFor } from '../../electron/engine/labels';
import { listResources, reconcile } from '../../electron/engine/cleanup';
import { removeContainer, removeNetwork } from '../../electron/engine/remove';
import { cli, docker } from './support';

const project = 'microlab-it-cleanup';
const other = 'microlab-it-cleanup-other';
const created: Container[] = [];

afterAll(async () => {
  for (const c of created) await c.remove({ force: true }).catch(() => undefined);
  for (const p of [project, other]) await cli(['down'], { MICROLAB_PROJECT: p });
});

async function labeledSet(p: string) {
  const network = await docker.createNetwork({
    Name: `${p}-net`,
    Internal: true,
    Labels: labelsFor(p, 'test'),
  });
  const volume = await docker.createVolume({ Name: `${p}-data`, Labels: labelsFor(p, 'test') });
  const container = await docker.createContainer({
    name: `${p}-app-1`,
    Image: baseImageName(),
    Cmd: ['sleep', '300'],
    Labels: labelsFor(p, 'workload', { workload: 'app' }),
    HostConfig: { NetworkMode: `${p}-net`, Binds: [`${p}-data:/data`] },
  });
  await container.start();
  return { network, volume, container };
}

describe('microlab down', () => {
  it('removes every labeled container, network and volume of the project, and nothing it did not create', async () => {
    const mine = await labeledSet(project);
    const theirs = await labeledSet(other);
    created.push(theirs.container);
    // a container MicroLab did not create, even one whose name looks like ours
    const unlabeled = await docker.createContainer({
      name: `${project}-not-ours`,
      Image: baseImageName(),
      Cmd: ['sleep', '300'],
    });
    created.push(unlabeled);
    await unlabeled.start();

    const result = await cli(['down'], { MICROLAB_PROJECT: project });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`removed container ${project}-app-1`);
    expect(result.stdout).toContain(`removed network ${project}-net`);
    expect(result.stdout).toContain(`removed volume ${project}-data`);
    expect(result.stdout).toContain('3 removed.');

    const left = await docker.listContainers({
      all: true,
      filters: { label: [`io.microlab.project=${project}`] },
    });
    expect(left).toEqual([]);
    await expect(mine.container.inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getNetwork(`${project}-net`).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getVolume(`${project}-data`).inspect()).rejects.toMatchObject({ statusCode: 404 });

    expect((await unlabeled.inspect()).State.Running).toBe(true);
    expect((await theirs.container.inspect()).State.Running).toBe(true);
    await expect(docker.getNetwork(`${other}-net`).inspect()).resolves.toBeTruthy();

    const again = await cli(['down'], { MICROLAB_PROJECT: project });
    expect(again.stdout).toBe('Nothing to remove.\n');
  });

  it('spares a container started by hand from each of our images (ownership is not inherited)', async () => {
    const visitors: Container[] = [];
    for (const image of [baseImageName(), shopImageName()]) {
      // What a student might type: `docker run -d --name visitor microlab/base:… sleep 600`.
      const visitor = await docker.createContainer({
        name: `${project}-visitor-${visitors.length}`,
        Image: image,
        Entrypoint: ['sleep'],
        Cmd: ['300'],
      });
      created.push(visitor);
      visitors.push(visitor);
      await visitor.start();
      const labels = (await visitor.inspect()).Config.Labels ?? {};
      for (const key of ['io.microlab.project', 'io.microlab.role', 'io.microlab.workload'])
        expect(Object.keys(labels), `${image} must not hand ${key} to its containers`).not.toContain(key);
    }
    // Neither the default project nor this one counts them as its own (read-only for 'microlab').
    for (const p of ['microlab', project]) {
      const ids = (await listResources(docker, p)).map((r) => r.id);
      for (const v of visitors) expect(ids).not.toContain(v.id);
    }
    const result = await cli(['down'], { MICROLAB_PROJECT: project });
    expect(result.code).toBe(0);
    for (const v of visitors) expect((await v.inspect()).State.Running).toBe(true);
  });

  it('names a foreign container that holds one of its networks and says what to do, twice', async () => {
    const mine = await labeledSet(project);
    // someone attaches a container of their own to the lab network: `docker run --network ...`
    const visitor = await docker.createContainer({
      name: `${project}-visitor`,
      Image: baseImageName(),
      Cmd: ['sleep', '300'],
      HostConfig: { NetworkMode: `${project}-net` },
    });
    created.push(visitor);
    await visitor.start();

    for (const [i, expected] of [
      [0, '2 removed, 1 left (see above).\n'],
      [1, 'Nothing removed: 1 left (see above).\n'],
    ] as const) {
      const result = await cli(['down'], { MICROLAB_PROJECT: project });
      expect(result.code, `down #${i + 1}`).toBe(1);
      expect(result.stderr).toBe(
        `could not remove network ${project}-net: it is still in use by container ${project}-visitor, which MicroLab did not start, so it leaves it alone\n` +
          `  hint: Disconnect it (\`docker network disconnect ${project}-net ${project}-visitor\`) or remove it (\`docker rm -f ${project}-visitor\`), then run \`microlab down\` again.\n`,
      );
      expect(result.stderr).not.toMatch(/active endpoints/);
      expect(result.stdout).not.toContain('Nothing to remove');
      expect(result.stdout.endsWith(expected), result.stdout).toBe(true);
    }
    await expect(mine.container.inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await visitor.inspect()).State.Running).toBe(true);

    // once the visitor leaves, down finishes the job
    await docker.getNetwork(`${project}-net`).disconnect({ Container: visitor.id, Force: true });
    const last = await cli(['down'], { MICROLAB_PROJECT: project });
    expect(last.code).toBe(0);
    expect(last.stdout).toBe(`removed network ${project}-net\n1 removed.\n`);
    expect((await visitor.inspect()).State.Running).toBe(true);
  });

  it('works after a crash: stopped and half-created resources go too', async () => {
    const { container } = await labeledSet(project);
    await container.kill();
    const created = await docker.createContainer({
      name: `${project}-never-started`,
      Image: baseImageName(),
      Labels: labelsFor(project, 'workload', { workload: 'half' }),
    });
    const result = await cli(['down'], { MICROLAB_PROJECT: project });
    expect(result.code).toBe(0);
    await expect(container.inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(created.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('reconcile at start removes throwaway containers only', async () => {
    const transient = await docker.createContainer({
      Image: baseImageName(),
      Cmd: ['sleep', '300'],
      Labels: labelsFor(project, 'doctor', { transient: true }),
    });
    const kept = await docker.createContainer({
      Image: baseImageName(),
      Cmd: ['sleep', '300'],
      Labels: labelsFor(project, 'workload', { workload: 'kept' }),
    });
    created.push(kept);
    // what the UI lists as "started by MicroLab" leaves the throwaways out
    const listed = await listResources(docker, project, { transient: false });
    expect(listed.map((r) => r.id)).toEqual([kept.id]);
    const report = await reconcile(docker, project);
    expect(report.removed.map((r) => r.id)).toEqual([transient.id]);
    await expect(transient.inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(kept.inspect()).resolves.toBeTruthy();
    await cli(['down'], { MICROLAB_PROJECT: project });
  });
});

describe('removing a container someone else is removing', () => {
  // The firewall agent removes a pod's holder as soon as its app goes; `up` then removes the
  // same holder and creates a new one of that name. Docker answers the second removal "already
  // in progress" before the name is free (CI: 'The container name ".../jumpbox-1-fw" is already
  // in use'). A plain remove that ignores that answer hit the conflict in 15 of 15 rounds here.
  it('removeContainer returns only once the name is free for a new container', async () => {
    const name = `${project}-contested`;
    const labels = labelsFor(project, 'test');
    for (let round = 0; round < 10; round++) {
      const first = await docker.createContainer({
        name,
        Image: baseImageName(),
        Cmd: ['sleep', '300'],
        Labels: labels,
      });
      await first.start();
      const theirs = first.remove({ force: true }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await removeContainer(docker, name);
      const second = await docker.createContainer({
        name,
        Image: baseImageName(),
        Cmd: ['true'],
        Labels: labels,
      });
      await second.remove({ force: true });
      await theirs;
    }
  });

  it('removeContainer of a container that does not exist resolves', async () => {
    await expect(removeContainer(docker, `${project}-never-made`)).resolves.toBeUndefined();
  });
});

describe('removing a network the engine says is still in use', () => {
  const p = 'microlab-it-cleanup-net';
  afterAll(() => cli(['down'], { MICROLAB_PROJECT: p }));

  const attach = async (name: string, labels: Record<string, string>) => {
    const c = await docker.createContainer({
      name: `${p}-${name}`,
      Image: baseImageName(),
      Cmd: ['sleep', '300'],
      Labels: labels,
      HostConfig: { NetworkMode: `${p}-net` },
    });
    created.push(c);
    await c.start();
    return c;
  };

  it('removes a throwaway container of the project that joined it meanwhile (a probe), then the network', async () => {
    await docker.createNetwork({ Name: `${p}-net`, Internal: true, Labels: labelsFor(p, 'network') });
    const probe = await attach('probe', labelsFor(p, 'probe', { workload: 'app', transient: true }));
    await removeNetwork(docker, `${p}-net`, p);
    await expect(docker.getNetwork(`${p}-net`).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(probe.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('waits out a container of the project someone else is removing, and never removes it itself', async () => {
    await docker.createNetwork({ Name: `${p}-net`, Internal: true, Labels: labelsFor(p, 'network') });
    const app = await attach('app', labelsFor(p, 'workload', { workload: 'app' }));
    // Without the wait, Docker refuses at once: the app still holds its endpoint.
    await expect(docker.getNetwork(`${p}-net`).remove()).rejects.toMatchObject({ statusCode: 403 });
    const going = (async () => {
      await new Promise((r) => setTimeout(r, 1000));
      await app.remove({ force: true });
    })();
    await removeNetwork(docker, `${p}-net`, p);
    await going;
    await expect(docker.getNetwork(`${p}-net`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('gives up at its limit with Docker’s refusal while a container of the project stays, which it leaves running', async () => {
    await docker.createNetwork({ Name: `${p}-net`, Internal: true, Labels: labelsFor(p, 'network') });
    const app = await attach('stays', labelsFor(p, 'workload', { workload: 'stays' }));
    await expect(removeNetwork(docker, `${p}-net`, p, { limitMs: 1000 })).rejects.toThrow(/active endpoints/);
    expect((await app.inspect()).State.Running).toBe(true);
    await removeContainer(docker, app.id);
    await removeNetwork(docker, `${p}-net`, p);
  });
});
