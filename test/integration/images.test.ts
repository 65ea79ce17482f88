import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runToCompletion } from '../../electron/engine/containers';
import {
  baseImageName,
  baseSourceHash,
  bootstrapOffline,
  exportBundle,
  importBundle,
  verifyBaseImage,
} from '../../electron/engine/images';
import { engineArchitecture } from '../../electron/engine/arch';
import { labelsFor } from '../../electron/engine/labels';
import { cli, docker, imageExists, runTask } from './support';

const project = 'microlab-it-images';
const offlineImage = 'microlab/base:it-offline';
const roundTripImage = 'microlab/it-roundtrip:1';
const scratch = path.join(os.tmpdir(), `microlab-it-images-${process.pid}`);

async function rootfsDirs(): Promise<string[]> {
  return (await readdir(os.tmpdir())).filter((name) => name.startsWith('microlab-rootfs-'));
}

afterAll(async () => {
  for (const name of [offlineImage, roundTripImage])
    await docker
      .getImage(name)
      .remove({ force: true })
      .catch(() => undefined);
  await rm(scratch, { recursive: true, force: true });
});

describe('the offline image path (debootstrap)', () => {
  it('produces a base image in which node, nft and postgres run', async () => {
    const before = await rootfsDirs();
    const { final, messages } = await runTask((ctx) =>
      bootstrapOffline(docker, offlineImage, ctx).then(() => 'done'),
    );
    expect(final.error).toBeUndefined();
    expect(final.state).toBe('succeeded');
    expect(messages.some((m) => m.startsWith('debootstrap: '))).toBe(true);
    expect(messages).toContain(`importing into the engine as ${offlineImage}`);

    const versions = await verifyBaseImage(docker, offlineImage);
    expect(versions).toMatch(
      /^v24\.\d+\.\d+, nftables v1\.\d+\.\d+.*, postgres \(PostgreSQL\) 15\.\d+.*, conntrack v1\.\d+/,
    );
    const info = await docker.getImage(offlineImage).inspect();
    expect(info.Config.Labels).toMatchObject({
      'io.microlab.image.project': 'microlab',
      'io.microlab.image.role': 'base',
      'io.microlab.image.source': await baseSourceHash(),
    });
    // Ownership labels are set on containers at create time, never inherited from an image.
    expect(Object.keys(info.Config.Labels ?? {})).not.toContain('io.microlab.project');
    expect(Object.keys(info.Config.Labels ?? {})).not.toContain('io.microlab.role');
    // trimmed: no apt lists, docs or LLVM
    const trimmed = await runToCompletion(docker, {
      Image: offlineImage,
      Cmd: [
        'sh',
        '-c',
        'find /var/lib/apt/lists /usr/share/doc /usr/share/locale -mindepth 1 | wc -l; find /usr/lib -name "libLLVM*" | wc -l',
      ],
      Labels: labelsFor(project, 'test', { transient: true }),
      HostConfig: { NetworkMode: 'none' },
    });
    expect(trimmed.output.trim().split('\n').map(Number)).toEqual([0, 0]);
    expect(await rootfsDirs()).toEqual(before);
  });

  it('can be canceled: nothing is imported and the temporary tree is removed', async () => {
    await docker
      .getImage(offlineImage)
      .remove({ force: true })
      .catch(() => undefined);
    const before = await rootfsDirs();
    const { final } = await runTask(
      (ctx) => bootstrapOffline(docker, offlineImage, ctx).then(() => 'done'),
      (task, cancel) => {
        if (task.progress.message.startsWith('debootstrap: Retriev')) cancel();
      },
    );
    expect(final.state).toBe('canceled');
    expect(await imageExists(offlineImage)).toBe(false);
    expect(await rootfsDirs()).toEqual(before);
  });
});

describe('classroom bundles', () => {
  it('export -> remove -> import round-trips an image, layers and all', async () => {
    // An image of its own, so the round trip removes nothing another test or lab uses.
    const context = path.join(scratch, 'context');
    await mkdir(context, { recursive: true });
    await writeFile(
      path.join(context, 'Dockerfile'),
      `FROM ${baseImageName()}\nRUN echo "round trip $(date +%s%N)" > /roundtrip\n`,
    );
    const build = await docker.buildImage(
      { context, src: ['Dockerfile'] },
      { t: roundTripImage, labels: labelsFor(project, 'test') },
    );
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(build, (err) => (err ? reject(err) : resolve(null))),
    );
    const { Id } = await docker.getImage(roundTripImage).inspect();
    const marker = await runToCompletion(docker, {
      Image: roundTripImage,
      Cmd: ['cat', '/roundtrip'],
      Labels: labelsFor(project, 'test', { transient: true }),
    });

    const file = path.join(scratch, 'bundle', 'bundle.tar');
    await mkdir(path.dirname(file), { recursive: true });
    const exported = await runTask((ctx) =>
      exportBundle(docker, file, ctx, [roundTripImage]).then((n) => n.join(',')),
    );
    // The bundle names each image with the architecture it holds: the engine's own here.
    expect(exported.final).toMatchObject({
      state: 'succeeded',
      result: `${roundTripImage} (${await engineArchitecture(docker)})`,
    });
    expect((await stat(file)).size).toBeGreaterThan(100 * 1024 * 1024); // base layers included
    expect(await readdir(path.dirname(file))).toEqual(['bundle.tar']); // no .partial left

    await docker.getImage(roundTripImage).remove({ force: true });
    expect(await imageExists(roundTripImage)).toBe(false);

    const imported = await runTask((ctx) => importBundle(docker, file, ctx).then((n) => n.join(',')));
    expect(imported.final).toMatchObject({ state: 'succeeded', result: roundTripImage });
    expect((await docker.getImage(roundTripImage).inspect()).Id).toBe(Id);
    const again = await runToCompletion(docker, {
      Image: roundTripImage,
      Cmd: ['cat', '/roundtrip'],
      Labels: labelsFor(project, 'test', { transient: true }),
    });
    expect(again.output).toBe(marker.output);
  });

  it('refuses a file that is not a bundle, saying which file and what to use', async () => {
    await mkdir(scratch, { recursive: true });
    const file = path.join(scratch, 'notes.txt');
    await writeFile(file, 'not an image bundle\n'.repeat(100));
    const result = await cli(['images', 'import', file], { MICROLAB_PROJECT: project });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file} is not an image bundle (not a tar archive)`);
    expect(result.stderr).toContain('hint: Use a file written by `microlab images export`.');
    const missing = await cli(['images', 'import', path.join(scratch, 'nope.tar')], {
      MICROLAB_PROJECT: project,
    });
    expect(missing.stderr).toContain(`no image bundle at ${path.join(scratch, 'nope.tar')}`);
  });

  it('`images prepare` says the base image is already present, and `images ls` shows its size', async () => {
    const prepared = await cli(['images', 'prepare'], { MICROLAB_PROJECT: project });
    expect(prepared.code).toBe(0);
    expect(prepared.stdout).toContain(`Prepare images: ${baseImageName()} is already present`);
    const listed = await cli(['images', 'ls', '--json'], { MICROLAB_PROJECT: project });
    const images = JSON.parse(listed.stdout) as {
      name: string;
      present: boolean;
      sizeBytes: number;
      required: boolean;
    }[];
    expect(images.find((i) => i.name === baseImageName())).toMatchObject({ present: true, required: true });
    expect(images.find((i) => i.name === baseImageName())!.sizeBytes).toBeGreaterThan(50 * 1024 * 1024);
  });
});
