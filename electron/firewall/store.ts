/**
 * The policy in force, kept on disk per project so every MicroLab process (the app, a CLI
 * command, a test) knows it. The kernel holds the rules; this holds the source they came from.
 *
 * MICROLAB_STATE_DIR overrides the place (tests use their own).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Mode } from './policy';

export interface StoredPolicy {
  /** The YAML text, exactly as applied. */
  text: string;
  /** Where it came from ("inline" when given as text). */
  file: string;
  /** The mode `apply --mode` set for every workload, if it did. */
  mode?: Mode;
  /** The apply kept established connections (`--keep-established`); reloads keep them too. */
  keepEstablished?: boolean;
  appliedAt: string;
  /**
   * The deployment (shape: "monolith" or "microservices") running when it was applied, if one
   * was. A policy names one shape's workloads: `up` of the other shape sets it aside.
   */
  deployment?: string;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MICROLAB_STATE_DIR) return env.MICROLAB_STATE_DIR;
  if (process.platform === 'win32')
    return path.join(env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'), 'MicroLab');
  if (process.platform === 'darwin')
    return path.join(os.homedir(), 'Library', 'Application Support', 'MicroLab');
  return path.join(env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state'), 'microlab');
}

function storeFile(project: string): string {
  return path.join(stateDir(), project, 'policy.json');
}

export async function readStoredPolicy(project: string): Promise<StoredPolicy | undefined> {
  try {
    return JSON.parse(await readFile(storeFile(project), 'utf8')) as StoredPolicy;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function writeStoredPolicy(project: string, stored: StoredPolicy): Promise<void> {
  const file = storeFile(project);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.partial`, JSON.stringify(stored, null, 2));
  await rename(`${file}.partial`, file);
}

export async function clearStoredPolicy(project: string): Promise<void> {
  await rm(storeFile(project), { force: true });
}
