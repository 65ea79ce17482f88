/**
 * The deployment's database password: one per deployment, random, so that what a student reads
 * off the system (the operator's ~/.pgpass, an app's DATABASE_URL) differs from the next
 * student's and cannot be passed around the room. Declarations write it as DB_PASSWORD; a
 * replica's container gets the real value at creation, and every container that carries it is
 * labelled with it, so that a later replica (scale, upgrade, another MicroLab process) finds the
 * one in use. Deployments created before it existed used `shop`, and keep it.
 */
import { randomInt } from 'node:crypto';
import type Docker from 'dockerode';
import { LABEL } from '../engine/labels';
import { LEGACY_DB_PASSWORD } from './declarations';
import { WORKLOAD_LABEL } from './workload';

/** On every container whose declaration names the password: the value it was given. */
export const SECRET_LABEL = 'io.microlab.db-password';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Ten characters a student can type (no 0/o or 1/l). */
export function newPassword(): string {
  return Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

const chosen = new Map<string, string>();

/**
 * The password of `project`'s deployment: the one its containers carry; for a project with
 * databases from before this label, `shop`; otherwise one chosen now (and kept in this process,
 * so that the replicas of one `up`, created together, agree).
 */
export async function deploymentPassword(docker: Docker, project: string): Promise<string> {
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
  let password = chosen.get(project);
  if (!password) {
    password = newPassword();
    chosen.set(project, password);
  }
  return password;
}
