/**
 * Small images of a given architecture for the bundle tests, loaded from a hand-made
 * `docker save` archive (one layer holding one file): an arm64 image on an amd64 engine
 * without building anything, its config naming the architecture as a real one does.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { singleFileTar } from '../../electron/engine/archive';
import { IMAGE_LABEL } from '../../electron/engine/labels';

export async function loadTinyImage(docker: Docker, name: string, arch: string): Promise<void> {
  const layer = singleFileTar('arch', Buffer.from(`${arch} ${name}\n`), { mtime: 0 });
  const diffId = createHash('sha256').update(layer).digest('hex');
  const config = JSON.stringify({
    architecture: arch,
    os: 'linux',
    config: { Labels: { [IMAGE_LABEL.project]: 'microlab', [IMAGE_LABEL.role]: 'test' } },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
  });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const pack = tar.pack();
  pack.entry({ name: configName }, config);
  pack.entry({ name: `${diffId}/layer.tar` }, layer);
  pack.entry(
    { name: 'manifest.json' },
    JSON.stringify([{ Config: configName, RepoTags: [name], Layers: [`${diffId}/layer.tar`] }]),
  );
  pack.finalize();
  const response = await docker.loadImage(Readable.from(pack));
  await new Promise((resolve, reject) =>
    docker.modem.followProgress(response, (err: Error | null) => (err ? reject(err) : resolve(null))),
  );
}
