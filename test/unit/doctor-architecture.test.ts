/**
 * The doctor compares each lab image's architecture with the engine's before it tries the
 * firewall: on an arm64 engine with amd64 images (an Apple-silicon laptop given an amd64
 * bundle) it says so, with the bundle to import, and starts no container. A real dockerode
 * client (through the registry) talks to a fake engine on a unix socket.
 */
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeArchitecture } from '../../electron/engine/arch';
import { MIN_ENGINE_MEMORY_GIB, runDoctor } from '../../electron/engine/doctor';
import { requiredImages } from '../../electron/engine/images';
import { IMAGE_LABEL } from '../../electron/engine/labels';
import { EngineRegistry } from '../../electron/engine/registry';

let server: Server | undefined;
afterEach(() => server?.close());

/** An engine of `engineArch` holding the lab images built for `imageArch`; records every request. */
async function fakeEngine(engineArch: string, imageArch: string, memory = 8 * 1024 ** 3) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-doctor-'));
  const socket = path.join(dir, 'docker.sock');
  const requests: string[] = [];
  const images = requiredImages();
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '').replace(/^\/v[\d.]+/, '');
    requests.push(`${req.method} ${url.split('?')[0]}`);
    const json = (body: unknown) =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (url === '/_ping') res.writeHead(200).end('OK');
    else if (url === '/version')
      json({
        Version: '27.3.1',
        ApiVersion: '1.47',
        Os: 'linux',
        Arch: engineArch,
        KernelVersion: '6.10.14-linuxkit',
      });
    else if (url === '/info')
      json({
        NCPU: 4,
        MemTotal: memory,
        OperatingSystem: 'Docker Desktop',
        OSType: 'linux',
        Architecture: 'aarch64',
        DockerRootDir: dir,
        Driver: 'overlay2',
      });
    else if (url.startsWith('/images/json'))
      json(
        images.map((i, n) => ({
          Id: `sha256:${n}`,
          RepoTags: [i.name],
          Labels: { [IMAGE_LABEL.project]: 'microlab', [IMAGE_LABEL.role]: i.role },
          Size: 100 * 1024 ** 2,
          Created: 1_700_000_000,
        })),
      );
    else if (/^\/images\/.+\/json$/.test(url)) json({ Id: 'sha256:x', Architecture: imageArch, Os: 'linux' });
    else if (url.startsWith('/networks')) json([]);
    else
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ message: `no ${url}` }));
  });
  await new Promise<void>((resolve) => server!.listen(socket, resolve));
  return {
    registry: new EngineRegistry({ DOCKER_HOST: `unix://${socket}`, HOME: '/nonexistent' }, 'linux'),
    requests,
  };
}

const firewall = {
  script: 'true',
  read: () => {
    throw new Error('the firewall check must not run on images of another architecture');
  },
};

describe('the doctor and image architectures', () => {
  it('an arm64 engine with amd64 images: its own finding, with the bundle to import, and no firewall container', async () => {
    const { registry, requests } = await fakeEngine('arm64', 'amd64');
    const report = await runDoctor(registry, 'microlab-unit', { firewall });
    const arch = report.checks.find((c) => c.id === 'architecture')!;
    expect(arch.status).toBe('fail');
    expect(arch.summary).toBe(
      `${requiredImages()
        .map((i) => `${i.name} is amd64`)
        .join(', ')}; the engine runs arm64`,
    );
    expect(arch.hint).toMatch(/^Import the classroom bundle for arm64: `microlab images import FILE`/);
    expect(arch.details).toMatchObject({ engine: 'arm64' });
    const nftables = report.checks.find((c) => c.id === 'nftables')!;
    expect(nftables.status).toBe('fail');
    expect(nftables.summary).toMatch(/^not tried: the lab images are not built for this engine's arm64/);
    expect(nftables.hint).not.toMatch(/kernel|modprobe/);
    expect(requests.filter((r) => r.startsWith('POST /containers'))).toEqual([]);
    expect(report.ok).toBe(false);
    // the architecture comes before the checks that use the images
    const ids = report.checks.map((c) => c.id);
    expect(ids.indexOf('architecture')).toBeLessThan(ids.indexOf('nftables'));
  });

  it("images of the engine's own architecture pass, and the firewall check runs", async () => {
    const { registry, requests } = await fakeEngine('arm64', 'arm64');
    const report = await runDoctor(registry, 'microlab-unit', {
      firewall: { script: 'true', read: () => ({ status: 'pass', summary: 'probed' }) },
    });
    expect(report.checks.find((c) => c.id === 'architecture')).toMatchObject({
      status: 'pass',
      summary: `${requiredImages().length} of ${requiredImages().length} built for arm64`,
    });
    // it tried to start the throwaway workload (the fake engine has none to give)
    expect(requests).toContain('POST /containers/create');
  });

  it('an engine with less memory than the heaviest lab step needs: a warning with the setting to raise', async () => {
    // Docker Desktop's smallest setting
    const { registry } = await fakeEngine('amd64', 'arm64', 1024 ** 3);
    const report = await runDoctor(registry, 'microlab-unit', { firewall });
    const memory = report.checks.find((c) => c.id === 'memory')!;
    expect(memory.status).toBe('warn');
    expect(memory.summary).toBe(
      `1.0 GiB for the engine; the heaviest lab step needs ${MIN_ENGINE_MEMORY_GIB} GiB`,
    );
    expect(memory.hint).toMatch(new RegExp(`^Raise Docker Desktop's memory to ${MIN_ENGINE_MEMORY_GIB} GiB`));
    // the engine's VM reports a little under its setting: that still passes
    server?.close();
    const enough = await fakeEngine('amd64', 'amd64', MIN_ENGINE_MEMORY_GIB * 1024 ** 3 - 150 * 1024 ** 2);
    const ok = await runDoctor(enough.registry, 'microlab-unit', { firewall });
    expect(ok.checks.find((c) => c.id === 'memory')?.status).toBe('pass');
  });

  it('reads the names engines and uname use', () => {
    expect(['x86_64', 'amd64', 'aarch64', 'arm64'].map(normalizeArchitecture)).toEqual([
      'amd64',
      'amd64',
      'arm64',
      'arm64',
    ]);
  });
});
