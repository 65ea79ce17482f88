/**
 * Terminal sessions on the real engine (issue 8, part 1): open, input, resize, output, close
 * with no process left in the container, a command's exit code, the session limit, refusal
 * of containers MicroLab did not create, the firewall sidecar as root with NET_ADMIN, a
 * container stopped mid-session and an engine that goes away mid-session.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TerminalExit } from '../../electron/api/terminal';
import { localApi } from '../../electron/api/local';
import { baseImageName } from '../../electron/engine/images';
import { EngineRegistry } from '../../electron/engine/registry';
import { execIn } from '../../electron/engine/exec';
import { createServices } from '../../electron/services';
import type { Services } from '../../electron/services';
import { MAX_SESSIONS, SESSION_ENV } from '../../electron/terminal/sessions';
import { cli, docker, openEngineRelay, repoRoot } from './support';

const project = `term-it-${process.pid}`;

/** A client that keeps every session's output (decoded) and end. */
function client(services: Services) {
  const api = localApi(services);
  const output = new Map<string, string>();
  const stderr = new Map<string, string>();
  const exits = new Map<string, TerminalExit>();
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  api.on('terminal:output', ({ id, data, stream }) => {
    const into = stream === 'stderr' ? stderr : output;
    into.set(id, (into.get(id) ?? '') + Buffer.from(data, 'base64').toString('utf8'));
    wake();
  });
  api.on('terminal:exit', (end) => {
    exits.set(end.id, end);
    wake();
  });
  /** Resolves once `test` holds (checked on every event), or fails after `ms` saying what was seen. */
  const until = (what: string, test: () => boolean, ms = 20_000) =>
    new Promise<void>((resolve, reject) => {
      if (test()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `waited for ${what}; output so far: ${JSON.stringify([...output.values()].join('|').slice(-600))}`,
          ),
        );
      }, ms);
      const check = () => {
        if (!test()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  return { api, output, stderr, exits, until };
}

/**
 * The live processes in a container, one "pid args" line each, " [session]" after those that
 * carry a terminal session's marker. Zombies are left out: they are dead, waiting for the
 * container's PID 1 to reap them.
 */
async function processes(container: string): Promise<string> {
  const { output } = await execIn(docker, container, [
    'sh',
    '-c',
    `m=session; for p in /proc/[0-9]*; do
      [ "$(cut -d' ' -f3 $p/stat 2>/dev/null)" = Z ] && continue
      printf '%s ' "\${p#/proc/}"; tr '\\0' ' ' < $p/cmdline
      grep -qsz ${SESSION_ENV}= $p/environ && printf ' [%s]' $m; echo
    done`,
  ]);
  return output;
}

let services: Services;
let shop: string;
let db: string;

beforeAll(async () => {
  services = createServices({ project });
  const api = localApi(services);
  await api.run('images:prepare', {});
  await api.run('deploy:up', { deployment: 'monolith', port: 0 });
  const status = await api.call('deploy:status', {});
  shop = status.workloads.find((w) => w.workload === 'shop')!.container;
  db = status.workloads.find((w) => w.workload === 'shop-db')!.container;
});

afterAll(async () => {
  await services?.terminal.closeAll();
  await localApi(services)
    .call('resources:down', {})
    .catch(() => undefined);
});

describe('a terminal session', () => {
  afterEach(() => services.terminal.closeAll());

  it('runs a shell as the app user, takes input and a new size, and leaves nothing behind when closed', async () => {
    const c = client(services);
    const session = await c.api.call('terminal:open', { target: { workload: 'shop' }, cols: 80, rows: 24 });
    expect(session).toMatchObject({
      container: shop,
      workload: 'shop',
      replica: 1,
      role: 'workload',
      user: 'shop',
    });
    const out = () => c.output.get(session.id) ?? '';

    await c.api.call('terminal:input', { id: session.id, data: 'id\r' });
    await c.until('id', () => /uid=1000\(shop\)/.test(out()));

    // Another workload answers from here (the database's port, through the lab network).
    await c.api.call('terminal:input', {
      id: session.id,
      data: 'nc -z -w 2 shop-db 5432 && echo REACHED-DB\r',
    });
    await c.until('nc', () => out().includes('REACHED-DB\r\n'));

    await c.api.call('terminal:resize', { id: session.id, cols: 132, rows: 43 });
    await c.api.call('terminal:input', { id: session.id, data: 'stty size\r' });
    await c.until('stty size', () => out().includes('43 132'));

    // A background job and a child: both must go with the session.
    await c.api.call('terminal:input', { id: session.id, data: 'sleep 4242 & sh -c "sleep 4343"\r' });
    let before = '';
    for (let i = 0; i < 50 && !(before.includes('sleep 4242') && before.includes('sleep 4343')); i++) {
      before = await processes(shop);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(before).toContain('[session]');

    expect(await c.api.call('terminal:list', {})).toHaveLength(1);
    await c.api.call('terminal:close', { id: session.id });
    expect(c.exits.get(session.id)).toEqual({ id: session.id, reason: 'closed' });
    const after = await processes(shop);
    expect(after).not.toContain('[session]');
    expect(after).not.toContain('sleep 4242');
    expect(after).not.toContain('sleep 4343');
    expect(await c.api.call('terminal:list', {})).toHaveLength(0);
    await expect(c.api.call('terminal:input', { id: session.id, data: 'x' })).rejects.toMatchObject({
      code: 'terminal-session',
    });
  });

  it('passes a command’s exit code through, stdout and stderr apart without a TTY', async () => {
    const c = client(services);
    const session = await c.api.call('terminal:open', {
      target: { workload: 'shop-db' },
      command: ['sh', '-c', 'id -un; echo oops >&2; exit 3'],
      tty: false,
    });
    expect(session.user).toBe('postgres');
    await c.until('exit', () => c.exits.has(session.id));
    expect(c.exits.get(session.id)).toMatchObject({ exitCode: 3 });
    expect(c.output.get(session.id)).toBe('postgres\n');
    expect(c.stderr.get(session.id)).toBe('oops\n');
  });

  it('`microlab exec` prints stdout and stderr apart and exits with the command’s code', async () => {
    const result = await cli(['exec', 'shop', '--', 'sh', '-c', 'echo out; echo err >&2; exit 4'], {
      MICROLAB_PROJECT: project,
    });
    expect(result).toEqual({ code: 4, stdout: 'out\n', stderr: 'err\n' });
    // The pod's holder is its firewall from the start; with no policy it holds no MicroLab table.
    const noTable = await cli(
      ['exec', 'shop', '--firewall', '--', 'nft', 'list', 'table', 'inet', 'microlab'],
      {
        MICROLAB_PROJECT: project,
      },
    );
    expect(noTable.code).toBe(1);
    expect(noTable.stdout).toBe('');
    expect(noTable.stderr).toContain('Error');
  });

  it('`microlab exec ... | head` stops quietly when the reader has read enough', async () => {
    // A shell pipeline, as a student types it: head closes the pipe after two lines.
    const cliPath = path.join(repoRoot, 'bin', 'microlab.js');
    const child = spawn(
      'sh',
      ['-c', `"${process.execPath}" "${cliPath}" exec shop -- seq 1 300000 | head -2`],
      {
        env: { ...process.env, MICROLAB_PROJECT: project },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stdout.split('\n').slice(0, 2)).toEqual(['1', '2']);
    // Before, Node's stack trace of the broken pipe: "Error: write EPIPE ... at ... cli.js".
    expect(stderr).toBe('');
  });

  it('delivers 10 MB of output without losing a byte, with and without a TTY', async () => {
    const c = client(services);
    const MB10 = 10 * 1024 * 1024;
    const bytes = new Map<string, number>();
    c.api.on('terminal:output', ({ id, data }) =>
      bytes.set(id, (bytes.get(id) ?? 0) + Buffer.from(data, 'base64').length),
    );
    const plain = await c.api.call('terminal:open', {
      target: { workload: 'shop' },
      command: ['head', '-c', String(MB10), '/dev/zero'],
      tty: false,
    });
    await c.until('the end of 10 MB', () => c.exits.has(plain.id), 120_000);
    expect(bytes.get(plain.id)).toBe(MB10);
    // Through the TTY: 10 MB of "x" (no newline to translate), then a marker.
    const tty = await c.api.call('terminal:open', {
      target: { workload: 'shop' },
      command: ['sh', '-c', `head -c ${MB10} /dev/zero | tr '\\0' x; echo; echo END`],
    });
    await c.until('the end of 10 MB through the TTY', () => c.exits.has(tty.id), 120_000);
    const text = c.output.get(tty.id) ?? '';
    expect(text.length).toBe(MB10 + '\r\nEND\r\n'.length);
    expect(text.endsWith('x\r\nEND\r\n')).toBe(true);
  });

  it('ends the sessions of a connection that goes', async () => {
    const c = client(services);
    const session = await c.api.call('terminal:open', { target: { workload: 'shop' } });
    await c.api.call('terminal:input', { id: session.id, data: 'sleep 4444\r' });
    let before = '';
    for (let i = 0; i < 50 && !before.includes('sleep 4444'); i++) before = await processes(shop);
    c.api.close();
    for (let i = 0; i < 50 && services.terminal.list().length; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(services.terminal.list()).toHaveLength(0);
    expect(await processes(shop)).not.toContain('sleep 4444');
  });

  it(`refuses the session after ${MAX_SESSIONS}, saying why`, async () => {
    const c = client(services);
    const opened = await Promise.all(
      Array.from({ length: MAX_SESSIONS }, () =>
        c.api.call('terminal:open', { target: { workload: 'shop' } }),
      ),
    );
    await expect(c.api.call('terminal:open', { target: { workload: 'shop' } })).rejects.toMatchObject({
      code: 'terminal-limit',
      message: expect.stringContaining(`${MAX_SESSIONS} terminal sessions are open`),
    });
    await Promise.all(opened.map((s) => c.api.call('terminal:close', { id: s.id })));
    expect(await processes(shop)).not.toContain('[session]');
    // A slot is free again.
    const again = await c.api.call('terminal:open', { target: { workload: 'shop' } });
    await c.api.call('terminal:close', { id: again.id });
  });

  it('refuses containers MicroLab did not create for this project, and names the problem', async () => {
    const c = client(services);
    const name = `${project}-foreign`;
    const foreign = await docker.createContainer({
      name,
      Image: baseImageName(),
      Cmd: ['sleep', 'infinity'],
      Labels: { 'io.microlab.project': 'someone-else', 'io.microlab.role': 'workload' },
    });
    try {
      await foreign.start();
      await expect(c.api.call('terminal:open', { target: { container: name } })).rejects.toMatchObject({
        code: 'terminal-foreign',
        message: expect.stringContaining(`${name} was not created by MicroLab for project ${project}`),
      });
      await expect(
        c.api.call('terminal:open', { target: { container: 'no-such-container-here' } }),
      ).rejects.toMatchObject({
        code: 'terminal-target',
      });
      await expect(c.api.call('terminal:open', { target: { workload: 'nothing' } })).rejects.toMatchObject({
        code: 'terminal-target',
      });
      await expect(
        c.api.call('terminal:open', { target: { workload: 'shop', replica: 7 } }),
      ).rejects.toMatchObject({
        code: 'terminal-target',
        message: 'shop has no replica 7 (it has 1)',
      });
    } finally {
      await foreign.remove({ force: true });
    }
  });

  it('opens the firewall (the pod holder) as root with NET_ADMIN: nft lists the MicroLab table once a policy is applied', async () => {
    const c = client(services);
    const before = await c.api.call('terminal:open', { target: { workload: 'shop' }, as: 'firewall' });
    expect(before).toMatchObject({
      workload: 'shop',
      role: 'firewall',
      user: 'root',
      container: `${shop}-fw`,
    });
    await c.api.call('terminal:input', {
      id: before.id,
      data: 'nft list ruleset | grep -c "table inet microlab"\r',
    });
    await c.until('nft', () => /\r\n0\r\n/.test(c.output.get(before.id) ?? ''));
    await c.api.call('terminal:close', { id: before.id });
    await c.api.call('policy:apply', {
      file: path.join(repoRoot, 'labs', 'policies', 'monolith-segmented.yaml'),
    });
    const session = await c.api.call('terminal:open', { target: { workload: 'shop' }, as: 'firewall' });
    expect(session).toMatchObject({
      workload: 'shop',
      role: 'firewall',
      user: 'root',
      container: `${shop}-fw`,
    });
    await c.api.call('terminal:input', {
      id: session.id,
      data: 'nft list ruleset | grep -c "table inet microlab"\r',
    });
    await c.until('nft', () => /\r\n1\r\n/.test(c.output.get(session.id) ?? ''));
    await c.api.call('terminal:close', { id: session.id });
    expect(await processes(session.container)).not.toContain('[session]');
    await c.api.call('policy:clear', {});
  });
});

describe('a session whose other end goes', () => {
  it('says the Docker engine went away when the connection to it is lost', async () => {
    // The engine, reached through a TCP relay this test can cut (dockerd itself keeps running).
    const relay = await openEngineRelay();
    const { port } = relay;
    const remote = createServices({
      project,
      registry: new EngineRegistry({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }),
    });
    const c = client(remote);
    const session = await c.api.call('terminal:open', { target: { workload: 'shop' } });
    await c.api.call('terminal:input', { id: session.id, data: 'echo READY\r' });
    await c.until('echo', () => (c.output.get(session.id) ?? '').includes('READY\r\n'));

    await relay.cut();
    await c.until('exit', () => c.exits.has(session.id));
    expect(c.exits.get(session.id)?.reason).toMatch(/^the Docker engine went away/);
    expect(remote.terminal.list()).toHaveLength(0);
    // The shell it left is the engine's to end; this test's own engine can still do it.
    await services.terminal.closeAll();
  });

  it('says the container stopped when it stops mid-session', async () => {
    const c = client(services);
    const session = await c.api.call('terminal:open', { target: { workload: 'shop-db' } });
    await c.api.call('terminal:input', { id: session.id, data: 'echo READY\r' });
    await c.until('echo', () => (c.output.get(session.id) ?? '').includes('READY\r\n'));
    await docker.getContainer(db).stop({ t: 1 });
    await c.until('exit', () => c.exits.has(session.id));
    expect(c.exits.get(session.id)?.reason).toMatch(new RegExp(`^the container ${db} stopped`));
    await expect(c.api.call('terminal:open', { target: { workload: 'shop-db' } })).rejects.toMatchObject({
      code: 'terminal-stopped',
      message: expect.stringContaining(`${db} is not running`),
    });
  });
});
