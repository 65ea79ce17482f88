import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './support';

/** No stack traces: every line of a user-facing error is ours. */
function expectNoStack(text: string) {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toMatch(/node:internal|\.js:\d+:\d+/);
}

describe('when the engine is not there', () => {
  it('says so clearly, with a fix, when there is no socket', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-noengine-'));
    const socket = path.join(dir, 'docker.sock');
    const result = await cli(['status'], { DOCKER_HOST: `unix://${socket}` });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `microlab: Docker engine not reachable. Tried unix://${socket} (DOCKER_HOST): no socket there.\n` +
        '  hint: Start the Docker engine (sudo systemctl start docker, or start dockerd), or set DOCKER_HOST to where it listens.\n',
    );
    expectNoStack(result.stderr);
  });

  it('says so when the socket is there but nothing answers (a stopped engine)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-noengine-'));
    const socket = path.join(dir, 'docker.sock');
    const server = createServer((connection) => connection.destroy());
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const result = await cli(['images', 'ls'], { DOCKER_HOST: `unix://${socket}` });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /^microlab: Docker engine not reachable\. Tried unix:\/\/.*docker\.sock \(DOCKER_HOST\): /,
      );
      expect(result.stderr).toMatch(/hint: Start the Docker engine/);
      expectNoStack(result.stderr);
    } finally {
      server.close();
    }
  });

  it('the doctor reports it as a failed check and exits non-zero', async () => {
    const result = await cli(['doctor', '--json'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      checks: { id: string; status: string; hint?: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.checks).toEqual([
      expect.objectContaining({
        id: 'engine',
        status: 'fail',
        hint: expect.stringContaining('Start the Docker engine'),
      }),
    ]);
  });
});
