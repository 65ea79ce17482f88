/**
 * Where MicroLab's own files are, whether it runs from source (tests), from the build
 * (dist/), or packaged by electron-builder (inside app.asar, with labs/ unpacked beside it).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

function findAppRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'microlab') return dir;
      } catch {
        /* keep looking */
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find MicroLab's files above ${start}`);
  }
}

let root: string | undefined;

/** The folder holding package.json, labs/ and dist/. */
export function appRoot(): string {
  root ??= findAppRoot(import.meta.dirname);
  return root;
}

/** labs/: image definitions, the shop, policies, guides. Files spawned from here must be real files. */
export function labsDir(): string {
  if (process.env.MICROLAB_LABS_DIR) return process.env.MICROLAB_LABS_DIR;
  return path.join(appRoot().replace(/app\.asar$/, 'app.asar.unpacked'), 'labs');
}

/** The built UI. */
export function rendererDir(): string {
  return path.join(appRoot(), 'dist', 'renderer');
}
