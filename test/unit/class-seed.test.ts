/**
 * Per-student values seeded by a live class: the host hands each approved student a seed of its
 * own (HMAC-SHA-256 of the student's key under the class secret, over real TLS on 127.0.0.1);
 * the student's MicroLab keeps it with its join state; a deployment's database password is
 * derived from the seed and the deployment's shape (stable, typeable, different per student and
 * per shape, not computable from another student's seed); outside a class it stays random; and
 * the instructor's guide, on the host, gives each student's password as their deployment gets it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { classScratch } from '../class-scratch';
import { ClassClient, joinedClassSeed } from '../../electron/class/client';
import { ClassHost } from '../../electron/class/host';
import { decodeJoinCode } from '../../electron/class/protocol';
import { studentSeed } from '../../electron/class/seed';
import { ClassStore, seededStudents } from '../../electron/class/store';
import { instructorGuide } from '../../electron/labs/guide';
import { loadLabs } from '../../electron/labs/loader';
import { seededPasswords } from '../../electron/services/class-seed';
import {
  ALPHABET,
  deploymentPassword,
  derivePassword,
  PASSWORD_LENGTH,
  SECRET_LABEL,
} from '../../electron/topology/secret';

const { hosts, tmp } = classScratch('mlc-seed-');

const engine = (labels: Record<string, string>[]) =>
  ({
    listContainers: () => Promise.resolve(labels.map((Labels) => ({ Labels, Names: ['/x'] }))),
  }) as unknown as Docker;

describe('a seeded password', () => {
  const seedA = studentSeed('class-secret-1', 's1');
  const seedB = studentSeed('class-secret-1', 's2');

  it('is ten characters of the typeable alphabet, the same every time for one seed and shape', () => {
    const p = derivePassword(seedA, 'monolith');
    expect(p).toHaveLength(PASSWORD_LENGTH);
    expect([...p].every((c) => ALPHABET.includes(c))).toBe(true);
    expect(derivePassword(seedA, 'monolith')).toBe(p);
  });

  it('differs per student, per shape and per class', () => {
    expect(seedA).toMatch(/^[0-9a-f]{64}$/);
    expect(seedB).not.toBe(seedA);
    expect(derivePassword(seedB, 'monolith')).not.toBe(derivePassword(seedA, 'monolith'));
    expect(derivePassword(seedA, 'microservices')).not.toBe(derivePassword(seedA, 'monolith'));
    expect(studentSeed('class-secret-2', 's1')).not.toBe(seedA);
    // Across many students, the passwords are all different (50 bits each).
    const room = new Set(
      Array.from({ length: 200 }, (_, i) => derivePassword(studentSeed('c', `s${i + 1}`), 'monolith')),
    );
    expect(room.size).toBe(200);
  });

  it("cannot be computed from another student's seed: only the class secret gives every seed", () => {
    // What a student holds (their seed, their passwords) does not give a neighbour's.
    const mine = seededPasswords(seedA);
    expect(Object.values(mine)).not.toContain(derivePassword(seedB, 'monolith'));
    expect(studentSeed(seedA, 's2')).not.toBe(seedB);
    expect(derivePassword(studentSeed(seedA, 's2'), 'monolith')).not.toBe(derivePassword(seedB, 'monolith'));
    // The instructor's secret gives it.
    expect(studentSeed('class-secret-1', 's2')).toBe(seedB);
  });

  it('refuses a seed that is not 64 hex digits, saying so', () => {
    expect(() => derivePassword('abc', 'monolith')).toThrow(/64 lowercase hex digits, not 3 characters/);
  });

  it("is the new deployment's password in a class; one the containers carry wins; random outside a class", async () => {
    const seeded = { seed: seedA, deployment: 'monolith' };
    expect(await deploymentPassword(engine([]), 'seed-p1', seeded)).toBe(derivePassword(seedA, 'monolith'));
    expect(await deploymentPassword(engine([{ [SECRET_LABEL]: 'k2k2k2k2k2' }]), 'seed-p2', seeded)).toBe(
      'k2k2k2k2k2',
    );
    const random = await deploymentPassword(engine([]), 'seed-p3');
    expect(random).not.toBe(derivePassword(seedA, 'monolith'));
    expect(random).toHaveLength(PASSWORD_LENGTH);
  });
});

describe('the seed of the class a MicroLab joined', () => {
  it('comes from the real host on approval, is kept with the join state, and survives a host restart', async () => {
    const hostDir = await tmp();
    const store = new ClassStore(hostDir);
    await store.create('lo', '127.0.0.1', 0, true);
    let host = new ClassHost({ store, labs: [] });
    await host.start();
    hosts.push(host);
    const code = decodeJoinCode(host.joinCode());
    const joinDirs = [await tmp(), await tmp()];
    const clients = joinDirs.map(
      (dir, i) =>
        new ClassClient({
          dir,
          progressFile: path.join(dir, 'progress.json'),
          student: { name: `Student ${i + 1}` },
          intervalMs: 50,
        }),
    );
    for (const c of clients) {
      await c.load(code);
      await c.join();
    }
    const keys = clients.map((c) => c.studentKey!);
    expect(keys).toEqual(['s1', 's2']);
    const seeds = clients.map((c) => c.seed!);
    expect(seeds[0]).toBe(store.seedOf('s1'));
    expect(seeds[1]).toBe(store.seedOf('s2'));
    expect(seeds[0]).not.toBe(seeds[1]);
    // Kept with the join state, and what the deployments read.
    expect(await joinedClassSeed(joinDirs[0]!)).toBe(seeds[0]);
    // The class secret is the host's alone: in its store, never in what a student holds.
    const secret = store.data.seedSecret!;
    expect(await readFile(path.join(joinDirs[0]!, 'join.json'), 'utf8')).not.toContain(secret);

    // The host restarts from its store: the same secret, the same seeds.
    await host.stop();
    const again = new ClassStore(hostDir);
    expect(await again.open()).toBe(true);
    host = new ClassHost({ store: again, labs: [] });
    hosts.push(host);
    expect(again.seedOf('s2')).toBe(seeds[1]);

    // The instructor's key (class guide on the host) gives each student the password their deployment gets.
    const hosted = (await seededStudents(hostDir))!;
    expect(hosted.students.map((s) => [s.key, s.seed])).toEqual([
      ['s1', seeds[0]],
      ['s2', seeds[1]],
    ]);
    const { labs } = await loadLabs(path.join(import.meta.dirname, '..', '..', 'labs', 'guides'));
    const guide = instructorGuide(
      labs.map((l) => l.lab),
      {
        seeded: {
          classId: hosted.classId,
          students: hosted.students.map(({ seed, ...s }) => ({ ...s, passwords: seededPasswords(seed) })),
        },
      },
    );
    const flat = guide.slice(guide.indexOf('`monolith-flat`'));
    const key = flat.slice(flat.indexOf(`### Per-student answer key (class ${hosted.classId})`));
    const mine = derivePassword((await joinedClassSeed(joinDirs[1]!))!, 'monolith');
    expect(key.split('\n')).toContain(`| s2 | Student 2 |  | \`${mine}\` |`);
    expect(key.split('\n')[4]).toBe('| student | name | id | step 1: password (monolith) |');
  });

  it('is none outside a class: no join state, not approved yet, the class ended, a bad seed', async () => {
    const dir = await tmp();
    expect(await joinedClassSeed(dir)).toBeUndefined();
    const seed = studentSeed('x', 's1');
    const write = (state: object) =>
      writeFile(path.join(dir, 'join.json'), JSON.stringify({ version: 1, messagesSeen: 0, ...state }));
    await write({ seed });
    expect(await joinedClassSeed(dir)).toBeUndefined();
    await write({ token: 't', seed, ended: true });
    expect(await joinedClassSeed(dir)).toBeUndefined();
    await write({ token: 't', seed: 'not-a-seed' });
    expect(await joinedClassSeed(dir)).toBeUndefined();
    await write({ token: 't', seed });
    expect(await joinedClassSeed(dir)).toBe(seed);
  });

  it('gives a class from before seeds a secret when opened, and leaves pending students out of the key', async () => {
    const dir = await tmp();
    const store = new ClassStore(dir);
    await store.create('lo', '127.0.0.1', 0, false);
    store.data.students.push(
      { key: 's1', name: 'A', state: 'approved', address: '127.0.0.1', joinedAt: 'x', nonceHash: 'h1' },
      { key: 's2', name: 'B', state: 'pending', address: '127.0.0.1', joinedAt: 'x', nonceHash: 'h2' },
    );
    delete store.data.seedSecret;
    await store.save();
    expect(await seededStudents(dir)).toBeUndefined();
    const reopened = new ClassStore(dir);
    expect(await reopened.open()).toBe(true);
    expect(reopened.data.seedSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await seededStudents(dir))!.students.map((s) => s.key)).toEqual(['s1']);
  });
});
