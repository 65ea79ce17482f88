/**
 * The in-app firewall watcher when the connection to the Docker engine drops and comes back
 * (issue 7, part 3): it says so on the API (`engine:connection`: lost, then restored with how
 * long it was away) and subscribes again, once, without flapping. The engine is reached through a TCP relay this test
 * cuts and reopens on the same port (dockerd itself keeps running).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Events } from '../../electron/api/contract';
import { EngineRegistry } from '../../electron/engine/registry';
import { createServices } from '../../electron/services';
import { pollUntil } from '../../electron/wait';
import { openEngineRelay } from './support';

const project = 'microlab-it-engine-connection';
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-engine-connection-'));
process.env.MICROLAB_STATE_DIR = stateDir;

/** The relay in use; cut in afterAll whatever the test did. */
let relay: { port: number; cut(): Promise<void> } | undefined;

const until = (what: string, ok: () => boolean, limitMs = 30_000) =>
  pollUntil(ok, { what, limitMs, everyMs: 50 });

afterAll(async () => {
  await relay?.cut().catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('the firewall watcher and the engine connection', () => {
  it('reports the engine going away and coming back on the API, and subscribes again', async () => {
    relay = await openEngineRelay();
    const { port } = relay;
    const services = createServices({
      project,
      registry: new EngineRegistry({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }),
    });
    const changes: Events['engine:connection'][] = [];
    // What every transport forwards to its clients (the UI's banner listens to it).
    const off = services.events.on('engine:connection', (c) => changes.push(c));
    const stop = await services.firewall.watch();
    try {
      await until('connected', () => changes.some((c) => c.state === 'connected'));

      await relay.cut();
      await until('lost', () => changes.some((c) => c.state === 'lost'));
      const lost = changes.find((c) => c.state === 'lost')!;
      expect(lost).toMatchObject({ state: 'lost', reason: expect.any(String) });

      relay = await openEngineRelay(port);
      await until('restored', () => changes.some((c) => c.state === 'restored'));
      const restored = changes.find((c) => c.state === 'restored')!;
      expect(restored).toMatchObject({ state: 'restored', downMs: expect.any(Number) });
      // One loss, one return: no flapping while the engine was away.
      expect(changes.map((c) => c.state)).toEqual(['connected', 'lost', 'restored']);
    } finally {
      off();
      stop();
      services.firewall.close();
    }
  });
});
