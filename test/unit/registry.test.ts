import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
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
});
