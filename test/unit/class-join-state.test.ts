/**
 * What a student's MicroLab keeps of its class (`class-join/`) when a join code is refused or
 * another class is joined, over TLS on 127.0.0.1: a code the host refuses (another certificate,
 * another class's code with a wrong class token) leaves the class joined before as it was (token, seed, events not sent
 * yet); a class joined anew starts with none of the old class's catch-up acceptances.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classScratch } from '../class-scratch';
import { ClassClient } from '../../electron/class/client';
import { ClassHost } from '../../electron/class/host';
import { decodeJoinCode, type JoinCode } from '../../electron/class/protocol';
import { ClassStore } from '../../electron/class/store';
import type { Lab } from '../../electron/labs/format';
import { loadLabs } from '../../electron/labs/loader';
import { ProgressStore, stepProgress } from '../../electron/labs/progress';

const GUIDES = path.resolve(import.meta.dirname, '..', '..', 'labs', 'guides');
const { hosts, tmp } = classScratch('mlc-joinstate-');
let labs: Lab[];

beforeAll(async () => {
  labs = (await loadLabs(GUIDES)).labs.map((l) => l.lab);
});

async function startHost(): Promise<ClassHost> {
  const store = new ClassStore(await tmp());
  await store.create('lo', '127.0.0.1', 0, true);
  const host = new ClassHost({ store, labs });
  await host.start();
  hosts.push(host);
  return host;
}

/** A fresh client on the student's folder, as each `microlab class join` makes one. */
function client(dir: string): ClassClient {
  return new ClassClient({
    dir: path.join(dir, 'class-join'),
    progressFile: path.join(dir, 'progress.json'),
    student: { name: 'Ana Lima' },
    intervalMs: 50,
  });
}

describe("a student's class folder", () => {
  it('keeps the class joined before when a code is refused, and forgets its acceptances only for a class joined anew', async () => {
    const host = await startHost();
    const code = decodeJoinCode(host.joinCode());
    const dir = await tmp();
    const progress = new ProgressStore(path.join(dir, 'progress.json'), 'student');
    const first = client(dir);
    await first.load(code);
    await first.join();
    await host.suggest('monolith-flat', 2);
    await first.sync();
    await first.accept('c1');
    await first.sync();
    expect(host.dashboard().catchUps[0]!.accepted).toHaveLength(1);
    const seed = first.seed;
    expect(seed).toBeDefined();
    // Offline work: two events the host has not seen yet.
    await progress.update((p) => {
      const s = stepProgress(p, 'monolith-flat', 'find-the-keys');
      s.startedAt ??= new Date().toISOString();
      s.hintsShown += 1;
    });

    // A code whose fingerprint was changed: the host is refused before anything is sent...
    const tampered: JoinCode = { ...code, fingerprint: `00${code.fingerprint.slice(2)}` };
    const wrong = client(dir);
    await wrong.load(tampered);
    await expect(wrong.join()).rejects.toMatchObject({ code: 'class-certificate-mismatch' });
    // ...and another class's code with a wrong class token is refused by its host.
    const other = await startHost();
    const otherCode = decodeJoinCode(other.joinCode());
    const otherRefused = client(dir);
    await otherRefused.load({ ...otherCode, token: 'A'.repeat(otherCode.token.length) });
    await expect(otherRefused.join()).rejects.toMatchObject({ code: 'class-refused' });

    // The class joined before is still this MicroLab's, token, seed and queued events included.
    const again = client(dir);
    await again.load();
    expect(again.studentKey).toBe('s1');
    expect(again.seed).toBe(seed);
    expect(again.status().phase).toBe('joined');
    expect(await again.sync()).toBe(2);
    expect(host.dashboard().totals).toMatchObject({ 'step-started': 1, hint: 1 });

    // Another class joined: its own suggestion c1 is not taken as accepted from the old class.
    const next = client(dir);
    await next.load(otherCode);
    await next.join();
    await other.suggest('monolith-flat', 3);
    await next.sync();
    await next.sync();
    expect(next.status().catchUps).toHaveLength(1);
    expect(next.status().catchUps[0]!.accepted).toBeUndefined();
    expect(other.dashboard().catchUps[0]!.accepted).toEqual([]);
  });
});

describe('one sender per class folder', () => {
  it('refuses a second process on the same folder with where, and takes the folder once released', async () => {
    const dir = await tmp();
    const release = await client(dir).hold();
    const second = client(dir).hold();
    await expect(second).rejects.toMatchObject({ code: 'class-join-running' });
    await expect(second).rejects.toThrow(/already sending this class's progress \(it holds .*join\.lock\)/);
    await release();
    const again = await client(dir).hold();
    await again();
  });
});
