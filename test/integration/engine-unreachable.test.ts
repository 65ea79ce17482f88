import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
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

  /** A docker config directory holding one context `name` whose engine is at `host`; current if asked. */
  async function dockerConfig(name: string, host: string, current: boolean): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-docker-config-'));
    const meta = path.join(dir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
    await mkdir(meta, { recursive: true });
    await writeFile(
      path.join(meta, 'meta.json'),
      JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }),
    );
    if (current) await writeFile(path.join(dir, 'config.json'), JSON.stringify({ currentContext: name }));
    return dir;
  }

  it("DOCKER_CONTEXT naming no context: the docker CLI's refusal, naming the context, with a fix (no fallback to the engine that runs)", async () => {
    const config = await mkdtemp(path.join(os.tmpdir(), 'microlab-docker-config-'));
    const result = await cli(['status'], { DOCKER_CONTEXT: 'nope', DOCKER_CONFIG: config, DOCKER_HOST: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^microlab: Docker context "nope" \(chosen by DOCKER_CONTEXT\): context not found/,
    );
    expect(result.stderr).toContain('hint: `docker context ls` lists the contexts there are');
    expect(result.stdout).toBe('');
    expectNoStack(result.stderr);
    const doctor = await cli(['doctor'], { DOCKER_CONTEXT: 'nope', DOCKER_CONFIG: config, DOCKER_HOST: '' });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/✘ Docker engine: Docker context "nope"/);
  });

  it('a current context whose endpoint is broken: names the context and its address (no fallback)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-noengine-'));
    const config = await dockerConfig('classroom', `unix://${dir}/docker.sock`, true);
    const result = await cli(['status'], { DOCKER_CONFIG: config, DOCKER_HOST: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `microlab: Cannot connect to the Docker engine of context "classroom" (current context) at unix://${dir}/docker.sock: no socket there.\n` +
        '  hint: Start the engine that context points at, or choose another: `docker context use default` for the local engine (`docker context ls` lists them all).\n',
    );
  });

  it('a current context that works is used, and status says it was found through it', async () => {
    const config = await dockerConfig('local', 'unix:///var/run/docker.sock', true);
    const result = await cli(['status', '--json'], { DOCKER_CONFIG: config, DOCKER_HOST: '' });
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { endpoint: { source: string } }).endpoint.source).toBe(
      'docker context "local" (current context)',
    );
  });
});
