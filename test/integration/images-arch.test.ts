/**
 * Bundles of two architectures on the real engine: export writes one file holding each
 * architecture's `docker save` archive; import loads only the engine's own, under the labs'
 * names; a bundle without it is refused before anything is loaded; a bundle written before
 * (one `docker save` archive) still imports.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineArchitecture } from '../../electron/engine/arch';
import { exportBundle, importBundle } from '../../electron/engine/images';
import { readBundleIndex, writeBundle } from '../../electron/engine/bundle';
import { cli, docker, imageExists, runTask } from './support';
import { loadTinyImage } from './bundle-arch';

const project = 'microlab-it-images-arch';
const scratch = path.join(os.tmpdir(), `microlab-it-images-arch-${process.pid}`);
let native: string;
let other: string;
const name = 'microlab/it-arch:1';
const otherName = () => `${name}-${other}`;

async function remove(...names: string[]) {
  for (const n of names)
    await docker
      .getImage(n)
      .remove({ force: true })
      .catch(() => undefined);
}

beforeAll(async () => {
  native = await engineArchitecture(docker);
  other = native === 'amd64' ? 'arm64' : 'amd64';
  await mkdir(scratch, { recursive: true });
});

afterAll(async () => {
  await remove(name, otherName(), 'microlab/it-arch:legacy');
  await rm(scratch, { recursive: true, force: true });
});

describe('a bundle of two architectures', () => {
  it('export holds both; import loads only the engine architecture, under the labs name', async () => {
    await loadTinyImage(docker, name, native);
    await loadTinyImage(docker, otherName(), other);
    expect((await docker.getImage(otherName()).inspect()).Architecture).toBe(other);

    const file = path.join(scratch, 'two.tar');
    const exported = await runTask((ctx) =>
      exportBundle(docker, file, ctx, [name, otherName()]).then((n) => n.join(',')),
    );
    expect(exported.final).toMatchObject({
      state: 'succeeded',
      result: `${name} (${native}),${name} (${other})`,
    });
    expect(await readdir(scratch)).toEqual(['two.tar']); // no .partial, no parts left
    const index = await readBundleIndex(file);
    expect(index).toEqual({
      version: 2,
      architectures: [
        { architecture: native, file: `${native}.tar`, images: [{ name, saved: name }] },
        { architecture: other, file: `${other}.tar`, images: [{ name, saved: otherName() }] },
      ],
    });

    await remove(name, otherName());
    const imported = await runTask((ctx) => importBundle(docker, file, ctx).then((n) => n.join(',')));
    expect(imported.final).toMatchObject({ state: 'succeeded', result: name });
    expect((await docker.getImage(name).inspect()).Architecture).toBe(native);
    expect(await imageExists(otherName())).toBe(false);
  });

  it('a bundle without the engine architecture is refused with what to do, and nothing is loaded', async () => {
    await remove(name, otherName());
    await loadTinyImage(docker, otherName(), other);
    const file = path.join(scratch, 'other-only.tar');
    await runTask((ctx) =>
      writeBundle(docker, file, [{ architecture: other, images: [{ name, saved: otherName() }] }], ctx).then(
        () => '',
      ),
    );
    await remove(otherName());
    const result = await cli(['images', 'import', file], { MICROLAB_PROJECT: project });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${file} holds images for ${other}, not for this engine's ${native}: they would run emulated, where nftables does not work`,
    );
    expect(result.stderr).toContain('microlab images prepare --arch amd64,arm64');
    expect(await imageExists(name)).toBe(false);
    expect(await imageExists(otherName())).toBe(false);
  });

  it('a bundle written before (one docker save archive) still imports', async () => {
    const legacy = 'microlab/it-arch:legacy';
    await loadTinyImage(docker, legacy, native);
    const file = path.join(scratch, 'legacy.tar');
    const withGetImages = docker as typeof docker & {
      getImages(opts: object): Promise<NodeJS.ReadableStream>;
    };
    await pipeline(await withGetImages.getImages({ names: [legacy] }), createWriteStream(file));
    await remove(legacy);
    expect((await readBundleIndex(file)).version).toBe(1);
    const listed = await cli(['images', 'import', file], { MICROLAB_PROJECT: project });
    expect(listed.code).toBe(0);
    expect((await docker.getImage(legacy).inspect()).Architecture).toBe(native);
  });

  it('images ls shows each image architecture', async () => {
    await loadTinyImage(docker, otherName(), other);
    const listed = await cli(['images', 'ls', '--json'], { MICROLAB_PROJECT: project });
    const images = JSON.parse(listed.stdout) as { name: string; architecture?: string }[];
    expect(images.find((i) => i.name === otherName())).toMatchObject({ architecture: other });
    const text = await cli(['images', 'ls'], { MICROLAB_PROJECT: project });
    expect(text.stdout).toMatch(new RegExp(`${otherName()}\\s+\\S+ \\S+\\s+${other}\\s+test`));
  });
});
