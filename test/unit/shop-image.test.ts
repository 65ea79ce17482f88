/**
 * The shop image is built from the bundle `npm run build` made (dist/shop.js), not from the
 * source at run time: a real dockerode client against a fake engine that records the build.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { provideShopImage, SOURCE_LABEL } from '../../electron/engine/shop-image';
import type { TaskContext } from '../../electron/tasks';

interface Engine {
  docker: Docker;
  server: Server;
  builds: { query: string; body: Buffer }[];
}

/** A fake engine with the base image, and the shop image when `shopLabels` is given. */
async function fakeEngine(shopLabels?: Record<string, string>): Promise<Engine> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-shop-engine-'));
  const socketPath = path.join(dir, 'docker.sock');
  const builds: Engine['builds'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = decodeURIComponent(req.url ?? '');
      res.setHeader('Content-Type', 'application/json');
      if (/\/images\/microlab\/base:[^/]+\/json$/.test(url))
        return void res.end(JSON.stringify({ Id: 'sha256:base', Config: { Labels: {} } }));
      if (/\/images\/microlab\/shop:[^/]+\/json$/.test(url))
        return shopLabels
          ? void res.end(JSON.stringify({ Id: 'sha256:shop', Config: { Labels: shopLabels } }))
          : void res.writeHead(404).end(JSON.stringify({ message: 'No such image' }));
      if (req.method === 'POST' && /\/build\?/.test(url)) {
        builds.push({ query: url, body: Buffer.concat(chunks) });
        return void res.end('{"stream":"Step 1/3 : ARG BASE"}\n{"stream":"Successfully built 0123"}\n');
      }
      res.writeHead(404).end(JSON.stringify({ message: `no ${req.method} ${url}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { docker: new Docker({ socketPath }), server, builds };
}

const ctx: TaskContext = { signal: new AbortController().signal, progress: () => undefined };

async function bundle(text: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'microlab-bundle-')), 'shop.js');
  await writeFile(file, text);
  return file;
}

describe('the shop image', () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.close()));

  it('is built from the bundle, and not again while the bundle is the same', async () => {
    const engine = await fakeEngine();
    servers.push(engine.server);
    const file = await bundle('console.log("the shop, bundled at build time");\n');
    await expect(provideShopImage(engine.docker, 'microlab/base:0.1.0', ctx, file)).resolves.toBe(
      'built microlab/shop:0.1.0',
    );
    expect(engine.builds).toHaveLength(1);
    // the build context (a gzipped tar) carries the bundle as it is
    expect(gunzipSync(engine.builds[0]!.body).includes('the shop, bundled at build time')).toBe(true);
    const labels = JSON.parse(
      new URL(engine.builds[0]!.query, 'http://x').searchParams.get('labels')!,
    ) as Record<string, string>;

    const built = await fakeEngine(labels);
    servers.push(built.server);
    await expect(provideShopImage(built.docker, 'microlab/base:0.1.0', ctx, file)).resolves.toBe(
      'microlab/shop:0.1.0 is up to date',
    );
    const changed = await bundle('console.log("a changed shop");\n');
    await expect(provideShopImage(built.docker, 'microlab/base:0.1.0', ctx, changed)).resolves.toBe(
      'rebuilt microlab/shop:0.1.0 (the shop changed)',
    );
    expect(labels[SOURCE_LABEL]).toMatch(/^[0-9a-f]{16}$/);
  });

  it('without a bundle: a present image is used, a missing one is an error that says how to get it', async () => {
    const missing = path.join(os.tmpdir(), 'microlab-no-such-dir', 'shop.js');
    const present = await fakeEngine({ [SOURCE_LABEL]: 'whatever' });
    servers.push(present.server);
    await expect(provideShopImage(present.docker, 'microlab/base:0.1.0', ctx, missing)).resolves.toBe(
      'microlab/shop:0.1.0 is present',
    );
    const absent = await fakeEngine();
    servers.push(absent.server);
    await expect(provideShopImage(absent.docker, 'microlab/base:0.1.0', ctx, missing)).rejects.toMatchObject({
      code: 'images-unavailable',
      message: 'cannot build microlab/shop:0.1.0: the shop is not built (shop.js is missing)',
      hint: expect.stringContaining('npm run build'),
    });
    expect(absent.builds).toHaveLength(0);
  });
});
