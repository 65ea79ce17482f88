/**
 * Per-student values seeded by a live class, wired for the services: the seed of the class this
 * MicroLab joined (a new deployment's database password is derived from it), and, on the
 * instructor's MicroLab, every student's seeded values (the guide's per-student answer key).
 * Both read the class's files in the state directory (`class-join/`, `class-host/`), so the
 * app and every CLI process agree; outside a class they give nothing and values stay random.
 */
import path from 'node:path';
import type { DeploymentName } from '../api/contract';
import { joinedClassSeed } from '../class/client';
import { exportsOf } from '../class/dashboard';
import { ClassStore } from '../class/store';
import { seededStudents } from '../class/store';
import { stateDir } from '../firewall/store';
import type { ReadExport } from '../labs/class-files';
import type { Lab } from '../labs/format';
import type { SeededAnswers } from '../labs/guide';
import { deployments } from '../topology/declarations';
import { derivePassword } from '../topology/secret';

/** The student's side of a class (`microlab class join`): join.json. */
export function classJoinDir(project: string): string {
  return path.join(stateDir(), project, 'class-join');
}

/** The instructor's side (`microlab class host`): class.json, the roster and the class secret. */
export function classHostDir(project: string): string {
  return path.join(stateDir(), project, 'class-host');
}

/** The student's lab progress (what a class client sends from): the labs' progress.json. */
export function labsProgressFile(project: string): string {
  return path.join(stateDir(), project, 'labs', 'progress.json');
}

/** The seed of the class this MicroLab is in now (approved, not ended), or undefined. */
export function joinedSeed(project: string): Promise<string | undefined> {
  return joinedClassSeed(classJoinDir(project));
}

/** Each deployment shape's password for `seed`. */
export function seededPasswords(seed: string): Record<DeploymentName, string> {
  const shapes = Object.keys(deployments) as DeploymentName[];
  return Object.fromEntries(shapes.map((d) => [d, derivePassword(seed, d)])) as Record<
    DeploymentName,
    string
  >;
}

/** The class this MicroLab hosts (or hosted) and each approved student's seeded values; undefined without one. */
export async function hostedSeededAnswers(project: string): Promise<SeededAnswers | undefined> {
  const hosted = await seededStudents(classHostDir(project));
  if (!hosted) return undefined;
  return {
    classId: hosted.classId,
    students: hosted.students.map(({ seed, ...student }) => ({
      ...student,
      passwords: seededPasswords(seed),
    })),
  };
}

/**
 * The class this MicroLab hosts (or hosted, ended too) as `class report` reads exported files:
 * one export per student with events, rebuilt from the host's record of them (the dashboard's
 * export, dashboard.ts exportsOf). Undefined when this MicroLab hosted no class.
 */
export async function hostedClassExports(project: string, labs: Lab[]): Promise<ReadExport[] | undefined> {
  const store = new ClassStore(classHostDir(project));
  if (!(await store.readRecord())) return undefined;
  return exportsOf(store.data.students, store.ledger, labs);
}
