/**
 * The deployment's database password: one per deployment, random, so that what a student reads
 * off the system (the operator's ~/.pgpass, an app's DATABASE_URL) differs from the next
 * student's and cannot be passed around the room. Declarations write it as DB_PASSWORD; a
 * replica's container gets the real value at creation, and every container that carries it is
 * labelled with it, so that a later replica (scale, upgrade, another MicroLab process) finds the
 * one in use. Deployments created before it existed used `shop`, and keep it.
 *
 * In a live class the password is seeded instead of random (Labtainers' per-student values): the
 * host hands each student a seed (class/seed.ts), and a deployment created while the student is
 * in the class gets derivePassword(seed, deployment name). The instructor, who holds the class
 * secret, computes every student's password (`class guide`); a student, who holds only their
 * own seed, cannot compute another's.
 */
import { createHmac, randomInt } from 'node:crypto';
import type Docker from 'dockerode';
import { ApiError } from '../errors';
import { LABEL } from '../engine/labels';
import { LEGACY_DB_PASSWORD } from './declarations';
import { WORKLOAD_LABEL } from './workload';

/** On every container whose declaration names the password: the value it was given. */
export const SECRET_LABEL = 'io.microlab.db-password';

/** 32 characters a student can type (no 0/o or 1/l): a password character carries 5 bits. */
export const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
/** Characters in a password. */
export const PASSWORD_LENGTH = 10;

/** Ten characters a student can type (no 0/o or 1/l). */
export function newPassword(): string {
  return Array.from({ length: PASSWORD_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

/** A class seed (class/seed.ts): 64 lowercase hex digits. */
const SEED = /^[0-9a-f]{64}$/;

/**
 * The database password of a `deployment` (its shape: `monolith`, `microservices`) created by
 * the student holding `seed`: HMAC-SHA-256(seed, deployment), its first ten bytes each taken
 * mod 32 onto ALPHABET (256 is a multiple of 32: no bias). Stable for one seed and shape, so the
 * instructor's key can name it before the student deploys. Throws ApiError `bad-seed` when the
 * seed is not 64 hex digits.
 */
export function derivePassword(seed: string, deployment: string): string {
  if (!SEED.test(seed))
    throw new ApiError('bad-seed', `a class seed is 64 lowercase hex digits, not ${seed.length} characters`);
  const digest = createHmac('sha256', Buffer.from(seed, 'hex'))
    .update(`microlab/db-password/${deployment}`)
    .digest();
  return Array.from(digest.subarray(0, PASSWORD_LENGTH), (b) => ALPHABET[b % ALPHABET.length]).join('');
}

const chosen = new Map<string, string>();

/**
 * The password of `project`'s deployment: the one its containers carry; for a project with
 * databases from before this label, `shop`; otherwise, with a class `seed`, the one derived for
 * `deployment` (derivePassword); otherwise one chosen now (and kept in this process, so that the
 * replicas of one `up`, created together, agree).
 */
export async function deploymentPassword(
  docker: Docker,
  project: string,
  seeded?: { seed: string; deployment: string },
): Promise<string> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`] },
  });
  const carried = containers.map((c) => c.Labels[SECRET_LABEL]).find((v) => !!v);
  if (carried) {
    chosen.set(project, carried);
    return carried;
  }
  if (containers.some((c) => c.Labels[`${WORKLOAD_LABEL.selector}tier`] === 'db')) return LEGACY_DB_PASSWORD;
  if (seeded) return derivePassword(seeded.seed, seeded.deployment);
  let password = chosen.get(project);
  if (!password) {
    password = newPassword();
    chosen.set(project, password);
  }
  return password;
}
