/**
 * The progress file shared by several processes (issue 15): real processes change it at once
 * and none loses another's change; a reader never sees half a file; a lock left by a process
 * that died is taken over; a file that is not progress is set aside, not overwritten.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProgressStore, stepProgress } from '../../electron/labs/progress';

let worker: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-progress-'));
  worker = path.join(dir, 'worker.mjs');
  await build({
    entryPoints: [path.join(import.meta.dirname, '..', 'progress-worker.ts')],
    outfile: worker,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
});

/** Runs the worker; resolves with its exit code. */
function run(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

describe('the progress file, shared by several processes', () => {
  it('keeps every change of 6 processes changing it at once, and a reader never sees half a file', async () => {
    const file = path.join(dir, 'hammer', 'progress.json');
    const processes = 6;
    const changes = 40;
    let reading = true;
    let reads = 0;
    const torn: string[] = [];
    // A reader in this process, reading the file as fast as it can while the writers work.
    const reader = (async () => {
      while (reading) {
        const text = await readFile(file, 'utf8').catch(() => undefined);
        if (text === undefined) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        reads++;
        try {
          JSON.parse(text);
        } catch {
          torn.push(text.slice(-80));
        }
      }
    })();
    const codes = await Promise.all(
      Array.from({ length: processes }, (_, p) => run([file, `p${p}`, String(changes)])),
    );
    reading = false;
    await reader;
    expect(codes).toEqual(Array(processes).fill(0));

    const step = stepProgress(await new ProgressStore(file, 'student').read(), 'hammer', 'step');
    expect(step.attempts).toBe(processes * changes);
    expect(Object.keys(step.answers)).toHaveLength(processes * changes);
    expect(reads).toBeGreaterThan(0);
    expect(torn).toEqual([]);
    // No partial file is left behind.
    expect((await readdir(path.dirname(file))).filter((n) => n.endsWith('.partial'))).toEqual([]);
    // Six Node processes started and 240 locked writes: more than 5 s on a busy machine.
  }, 60_000);

  it('takes over the lock of a process that died holding it', async () => {
    const file = path.join(dir, 'stale', 'progress.json');
    const holder = spawn(process.execPath, [worker, file, 'holder', 'hold', '2000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => holder.stdout.on('data', () => resolve()));
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.on('exit', resolve));
    // The lock is still there: only its age tells it is abandoned.
    expect(await readdir(path.dirname(file))).toContain('progress.json.lock');

    const store = new ProgressStore(file, 'student', { staleMs: 2000 });
    await store.update((data) => void (stepProgress(data, 'lab', 'step').attempts = 1));
    expect(stepProgress(await store.read(), 'lab', 'step').attempts).toBe(1);
    // A process to start and a lock to age: more than the default 5 s on a busy machine.
  }, 30_000);

  it('sets a file that is not progress aside instead of overwriting it', async () => {
    const file = path.join(dir, 'broken', 'progress.json');
    const store = new ProgressStore(file, 'student');
    await store.update(() => undefined);
    await writeFile(file, '{"version": 1, "labs": {"lab-1": {"lab": "lab-1", "st');
    await store.update((data) => void stepProgress(data, 'lab-2', 'step'));
    const names = await readdir(path.dirname(file));
    const aside = names.find((n) => n.startsWith('progress.json.unreadable-'));
    expect(aside).toBeDefined();
    expect(await readFile(path.join(path.dirname(file), aside!), 'utf8')).toContain('"lab-1"');
    expect(Object.keys((await store.read()).labs)).toEqual(['lab-2']);
  });
});
