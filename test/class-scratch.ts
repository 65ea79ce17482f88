/**
 * The class unit tests' scratch: temporary folders (a host's store, a student's state) and the
 * class hosts a test started, removed and stopped after each test of the file that asks for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { ClassHost } from '../electron/class/host';

export interface ClassScratch {
  /** The folders made so far in this test, oldest first. */
  dirs: string[];
  /** Push a host here: it is stopped after the test. */
  hosts: ClassHost[];
  /** A new empty folder under the system's temporary folder, named `prefix...`. */
  tmp(): Promise<string>;
}

/** Call once at a test file's top level. */
export function classScratch(prefix: string): ClassScratch {
  const dirs: string[] = [];
  const hosts: ClassHost[] = [];
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.stop();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  return {
    dirs,
    hosts,
    async tmp() {
      const d = await mkdtemp(path.join(os.tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
  };
}
