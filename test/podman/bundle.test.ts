/**
 * A bundle of two architectures imported into Podman (through its Docker-compatible API): only
 * the engine's own architecture is loaded and tagged; the other half is not. The bundle is
 * written by dockerd, as an instructor's machine would, from two small images (one per
 * architecture). Runs in the podman project (MICROLAB_PODMAN_HOST names the service's socket).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { engineArchitecture } from '../../electron/engine/arch';
import { exportBundle, importBundle } from '../../electron/engine/images';
import { loadTinyImage } from '../integration/bundle-arch';
import { docker, runTask } from '../integration/support';

const host = process.env.MICROLAB_PODMAN_HOST;
if (!host) throw new Error('MICROLAB_PODMAN_HOST is not set: it names the Podman service socket');
const podman = new Docker({ socketPath: host.replace(/^unix:\/\//, '') });
const name = 'microlab/it-podman-arch:1';
let scratch: string | undefined;

async function remove(engine: Docker, ...names: string[]) {
  for (const n of names)
    await engine
      .getImage(n)
      .remove({ force: true })
      .catch(() => undefined);
}

afterAll(async () => {
  const other = (await engineArchitecture(docker)) === 'amd64' ? 'arm64' : 'amd64';
  await remove(docker, name, `${name}-${other}`);
  await remove(podman, name, `${name}-${other}`);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('a two-architecture bundle on Podman', () => {
  it('loads only the engine architecture, tagged as the labs name', async () => {
    const native = await engineArchitecture(podman);
    expect(native).toBe(await engineArchitecture(docker));
    const other = native === 'amd64' ? 'arm64' : 'amd64';
    await loadTinyImage(docker, name, native);
    await loadTinyImage(docker, `${name}-${other}`, other);
    scratch = await mkdtemp(path.join(os.tmpdir(), 'microlab-podman-bundle-'));
    const file = path.join(scratch, 'two.tar');
    const written = await runTask((ctx) =>
      exportBundle(docker, file, ctx, [name, `${name}-${other}`]).then((n) => n.join(',')),
    );
    expect(written.final.result).toBe(`${name} (${native}),${name} (${other})`);

    await remove(podman, name, `${name}-${other}`);
    const imported = await runTask((ctx) => importBundle(podman, file, ctx).then((n) => n.join(',')));
    expect(imported.final).toMatchObject({ state: 'succeeded', result: name });
    expect((await podman.getImage(name).inspect()).Architecture).toBe(native);
    const tags = (await podman.listImages()).flatMap((i) => i.RepoTags ?? []);
    expect(tags.filter((t) => t.includes('it-podman-arch'))).toEqual([`localhost/${name}`]);
  });
});
