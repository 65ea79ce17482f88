import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineRegistry } from '../../electron/engine/registry';

/** A real dockerode client talks to a fake engine on a unix socket. */
async function fakeEngine(
  answer: (url: string) => { status: number; body: string },
): Promise<{ socket: string; server: Server }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-engine-'));
  const socket = path.join(dir, 'docker.sock');
  const server = createServer((req, res) => {
    const { status, body } = answer(req.url ?? '');
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, server };
}

describe('EngineRegistry', () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.close()));

  it('connects to the endpoint that answers /_ping, and says how it found it', async () => {
    const { socket, server } = await fakeEngine((url) =>
      url.endsWith('/_ping') ? { status: 200, body: 'OK' } : { status: 404, body: '' },
    );
    servers.push(server);
    const engine = await new EngineRegistry(
      { DOCKER_HOST: `unix://${socket}`, HOME: '/nonexistent' },
      'linux',
    ).get();
    expect(engine.endpoint).toEqual({ address: `unix://${socket}`, source: 'DOCKER_HOST' });
  });

  it('explains a socket that is not an engine', async () => {
    const { socket, server } = await fakeEngine(() => ({ status: 404, body: 'page not found' }));
    servers.push(server);
    const registry = new EngineRegistry({ DOCKER_HOST: `unix://${socket}`, HOME: '/nonexistent' }, 'linux');
    await expect(registry.get()).rejects.toMatchObject({
      code: 'engine-unreachable',
      message: expect.stringContaining('answered HTTP 404 to /_ping: not a Docker engine?'),
    });
  });

  it('explains a missing socket with a fix for the platform, and connects once the engine is there', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-engine-'));
    const socket = path.join(dir, 'docker.sock');
    const registry = new EngineRegistry({ DOCKER_HOST: `unix://${socket}`, HOME: '/nonexistent' }, 'darwin');
    await expect(registry.get()).rejects.toMatchObject({
      message: `Docker engine not reachable. Tried unix://${socket} (DOCKER_HOST): no socket there.`,
      hint: expect.stringContaining('Docker Desktop'),
    });
    // a failed connection is not cached: the next call tries again
    const server = createServer((_req, res) => res.end('OK'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    await expect(registry.get()).resolves.toMatchObject({ endpoint: { address: `unix://${socket}` } });
  });

  it('a context whose endpoint is broken: the error names the context and its address, and nothing else is tried', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'microlab-home-'));
    const socket = path.join(home, 'gone.sock');
    const meta = path.join(home, '.docker/contexts/meta', createHash('sha256').update('lab').digest('hex'));
    await mkdir(meta, { recursive: true });
    await writeFile(
      path.join(meta, 'meta.json'),
      JSON.stringify({ Endpoints: { docker: { Host: `unix://${socket}` } } }),
    );
    await writeFile(path.join(home, '.docker/config.json'), JSON.stringify({ currentContext: 'lab' }));
    const registry = new EngineRegistry({ HOME: home }, 'linux');
    await expect(registry.get()).rejects.toMatchObject({
      code: 'engine-unreachable',
      message: `Cannot connect to the Docker engine of context "lab" (current context) at unix://${socket}: no socket there.`,
      hint: expect.stringContaining('`docker context use default`'),
    });
    // DOCKER_CONTEXT naming no context: the same refusal as the docker CLI's, before any connection
    await expect(
      new EngineRegistry({ HOME: home, DOCKER_CONTEXT: 'nope' }, 'linux').get(),
    ).rejects.toMatchObject({
      code: 'engine-context',
      message: expect.stringContaining('Docker context "nope" (chosen by DOCKER_CONTEXT): context not found'),
    });
  });
});
