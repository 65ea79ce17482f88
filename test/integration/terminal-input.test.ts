/**
 * What students type and pipe into terminals (issue 15): `microlab exec` passes its standard
 * input through byte for byte and closes it at end of file, like `docker exec -i`;
 * `microlab shell` keeps a character whose bytes arrive in two reads whole; a shell left
 * running by a MicroLab process that was killed is ended by the next one that opens a terminal.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localApi } from '../../electron/api/local';
import { createServices } from '../../electron/services';
import type { Services } from '../../electron/services';
import { execIn } from '../../electron/engine/exec';
import { docker, repoRoot, until } from './support';

const project = `term-input-it-${process.pid}`;
const cliPath = path.join(repoRoot, 'bin', 'microlab.js');

/**
 * Runs the built CLI with `input` written to its standard input piece by piece, `gapMs` apart
 * (so that the CLI reads them apart), then closed.
 */
function cliWithInput(
  args: string[],
  input: (Buffer | string)[],
  gapMs = 0,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...process.env, MICROLAB_PROJECT: project },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr }));
    void (async () => {
      for (const piece of input) {
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
        child.stdin.write(piece);
      }
      child.stdin.end();
    })();
  });
}

let services: Services;

beforeAll(async () => {
  services = createServices({ project });
  const api = localApi(services);
  await api.run('images:prepare', {});
  await api.run('deploy:up', { deployment: 'monolith', port: 0 });
});

afterAll(async () => {
  await services?.terminal.closeAll();
  await localApi(services)
    .call('resources:down', {})
    .catch(() => undefined);
});

describe('microlab exec', () => {
  it('feeds a query piped in to psql, which answers and exits (it hung on an input never closed)', async () => {
    const result = await cliWithInput(
      // The operator's saved login (~/.pgpass) holds the deployment's own password.
      ['exec', 'jumpbox', '--', 'psql', '-tA', '-h', 'shop-db', '-U', 'shop', 'postgres'],
      ['select 1 + 1;\n'],
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString()).toBe('2\n');
  });

  it('gives a command with no input end of file at once', async () => {
    const result = await cliWithInput(['exec', 'shop', '--', 'wc', '-c'], []);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString().trim()).toBe('0');
  });

  it('passes 1 MiB of binary input untouched, in order', async () => {
    const data = randomBytes(1024 * 1024);
    const pieces = Array.from({ length: 16 }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    const result = await cliWithInput(['exec', 'shop', '--', 'sha256sum'], pieces);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.toString().split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
  });
});

describe('microlab shell', () => {
  it('keeps characters whose bytes arrive in two reads whole (they arrived as U+FFFD)', async () => {
    const text = 'é€😀日本';
    const bytes = Buffer.from(`printf '%s\\n' '${text}' | od -An -c | tr -d ' \\n'; echo; exit\r`);
    const start = bytes.indexOf(Buffer.from(text));
    // Cut inside every multi-byte character: é (2 bytes), € (3), 😀 (4), 日 (3).
    const cuts = [start + 1, start + 3, start + 6, start + 9, start + 12, bytes.length];
    const pieces = cuts.map((end, i) => bytes.subarray(i === 0 ? 0 : cuts[i - 1], end));
    const result = await cliWithInput(['shell', 'shop'], pieces, 300);
    const out = result.stdout.toString('utf8');
    expect(out).not.toContain('\ufffd');
    expect(out).toContain(text);
    expect(result.code).toBe(0);
  });
});

describe('a MicroLab process killed with its sessions open', () => {
  it('leaves no shell behind once another MicroLab process opens a terminal', async () => {
    const jumpbox = `${project}-jumpbox-1`;
    const sleeping = async () =>
      (
        await execIn(docker, jumpbox, [
          'sh',
          '-c',
          'pgrep -f "^sleep 4646" >/dev/null && echo yes || echo no',
        ])
      ).output.trim();
    const child = spawn(process.execPath, [cliPath, 'shell', 'jumpbox'], {
      env: { ...process.env, MICROLAB_PROJECT: project },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.stdin.write('sleep 4646\r');
    await until('the shell running sleep', sleeping, (s) => s === 'yes');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // Docker does not end an exec's processes when its client goes: the shell is orphaned.
    expect(await sleeping()).toBe('yes');

    // The next process to open a terminal ends what dead MicroLab processes left.
    const api = localApi(services);
    const session = await api.call('terminal:open', { target: { workload: 'shop' } });
    await until('the orphaned shell ended', sleeping, (s) => s === 'no');
    await api.call('terminal:close', { id: session.id });
    api.close();
  });
});
