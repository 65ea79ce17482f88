/**
 * The offline path to the base image: Debian bootstrapped with debootstrap from Debian's
 * packages (a Linux host, root), for the host's architecture or, through QEMU's user-mode
 * emulation registered with binfmt_misc, for another one (`--arch=arm64` on an amd64 host).
 * The tree is trimmed, given the LTS Node binary (node-runtime.ts), and loaded into the engine
 * as a one-layer `docker save` archive whose config names the architecture: `docker import`
 * (Docker 20.10) records the engine's architecture whatever the tree holds, `docker load` keeps
 * the config's.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { ApiError } from '../errors';
import type { TaskContext } from '../tasks';
import { throwIfAborted } from '../tasks';
import { labsDir } from '../paths';
import { lines } from './streams';
import { hostArchitecture } from './arch';
import { byteCounter, followStream } from './bundle';
import { provideNodeBinary } from './node-runtime';

/** Runs a command, killing its whole process group on cancel; resolves on exit 0. */
export function run(
  command: string,
  args: string[],
  signal: AbortSignal,
  onLine?: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let tail = '';
    // One splitter per stream: a line of stdout cut by a chunk is not mixed with stderr's.
    const splitters = [child.stdout, child.stderr].map((stream) => {
      const splitter = lines((line) => {
        tail = `${tail}${line}\n`.slice(-2000);
        if (line.trim()) onLine?.(line.trim());
      });
      stream.on('data', (chunk: Buffer) => splitter.write(chunk));
      return splitter;
    });
    const abort = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    signal.addEventListener('abort', abort, { once: true });
    child.on('error', (err) => {
      signal.removeEventListener('abort', abort);
      reject(err);
    });
    child.on('exit', (code, sig) => {
      signal.removeEventListener('abort', abort);
      for (const splitter of splitters) splitter.end();
      if (signal.aborted) return reject(Object.assign(new Error('canceled'), { name: 'AbortError' }));
      if (code === 0) return resolve();
      reject(
        new Error(
          `${command} failed (${sig ?? `exit ${code}`}): ${tail.trim().split('\n').slice(-3).join(' | ')}`,
        ),
      );
    });
  });
}

function installed(command: string, args = ['--version']): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = spawn(command, args, { stdio: 'ignore' });
    probe.on('error', () => resolve(false));
    probe.on('exit', (code) => resolve(code === 0));
  });
}

/** Why the offline path cannot run here, or undefined when it can. */
export async function debootstrapUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'debootstrap needs a Linux host';
  if (process.getuid?.() !== 0) return 'debootstrap needs root (run `sudo microlab images prepare`)';
  return (await installed('debootstrap'))
    ? undefined
    : 'debootstrap is not installed (apt-get install debootstrap)';
}

/** QEMU's name for an architecture, as binfmt_misc registers its emulator (`qemu-aarch64`). */
const QEMU_NAMES: Record<string, string> = { arm64: 'aarch64', amd64: 'x86_64' };
const BINFMT = '/proc/sys/fs/binfmt_misc';

/** An emulator's binfmt_misc entry: whether it is enabled and registered with the F flag. */
async function binfmtEntry(qemu: string): Promise<{ enabled: boolean; fixBinary: boolean } | undefined> {
  const text = await readFile(path.join(BINFMT, `qemu-${qemu}`), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const flags = /^flags: *(\S*)/m.exec(text)?.[1] ?? '';
  return { enabled: /^enabled$/m.test(text), fixBinary: flags.includes('F') };
}

/**
 * Makes sure this host runs `arch`'s binaries through QEMU: binfmt_misc mounted (where no
 * systemd mounted it: containers, CI), and Debian's qemu-user-static emulator registered with
 * the F flag (the kernel opens the emulator at registration, so it runs inside containers and
 * chroots too). Mounts and registers it itself (as root); says exactly what to run when it cannot.
 * Errors: `emulation-unavailable` with the commands to run.
 */
export async function ensureEmulation(arch: string, signal: AbortSignal): Promise<string> {
  const qemu = QEMU_NAMES[arch];
  if (!qemu) throw new ApiError('emulation-unavailable', `no emulator known for ${arch}`);
  const fix = [
    'apt-get install -y qemu-user-static binfmt-support',
    `mount -t binfmt_misc binfmt_misc ${BINFMT}`,
    `update-binfmts --enable qemu-${qemu}`,
  ];
  const unavailable = (why: string) =>
    new ApiError(
      'emulation-unavailable',
      `cannot run ${arch} binaries on this ${hostArchitecture()} host: ${why}`,
      `Run as root: ${fix.join(' && ')}`,
    );
  const done: string[] = [];
  if (!existsSync(path.join(BINFMT, 'status'))) {
    await run('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT], signal).catch((err: Error) => {
      throw unavailable(`binfmt_misc is not mounted and mounting it failed (${err.message})`);
    });
    done.push(`mounted binfmt_misc at ${BINFMT}`);
  }
  let entry = await binfmtEntry(qemu);
  if (!entry?.enabled) {
    if (!existsSync(`/usr/bin/qemu-${qemu}-static`) || !(await installed('update-binfmts', ['--version'])))
      throw unavailable(`qemu-user-static and binfmt-support are not installed`);
    await run('update-binfmts', ['--enable', `qemu-${qemu}`], signal).catch((err: Error) => {
      throw unavailable(`registering qemu-${qemu} failed (${err.message})`);
    });
    entry = await binfmtEntry(qemu);
    if (!entry?.enabled) throw unavailable(`qemu-${qemu} is still not registered`);
    done.push(`registered qemu-${qemu} with binfmt_misc`);
  }
  if (!entry.fixBinary)
    throw unavailable(
      `qemu-${qemu} is registered without the F flag, so containers cannot find it (use Debian's qemu-user-static, or register it with flags F)`,
    );
  return done.length ? done.join('; ') : `qemu-${qemu} is registered`;
}

/** labs/images/base/packages.txt: the Debian packages of the base image, one a line. */
export async function readPackageList(): Promise<string[]> {
  const text = await readFile(path.join(labsDir(), 'images', 'base', 'packages.txt'), 'utf8');
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/** debootstrap mounts /proc and friends inside the target; unmount them before deleting it. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  const points = mounts
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((p): p is string => Boolean(p) && (p === dir || p!.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const point of points) {
    await run('umount', ['-l', point], new AbortController().signal).catch(() => undefined);
  }
}

/** debootstrap's package cache for `arch` (one folder per architecture). */
export function debootstrapCacheDir(arch = hostArchitecture()): string {
  const cacheHome = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'microlab', 'debootstrap', arch);
}

/** The image's settings: what `docker import --change` gave it before. */
export interface ImageSettings {
  labels: Record<string, string>;
  env: string[];
  cmd: string[];
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * Loads a root file system tree as a one-layer image of `arch` named `name`: the tree's tar is
 * written beside it, then sent with its config and manifest as a `docker save` archive.
 */
async function loadTree(
  docker: Docker,
  root: string,
  work: string,
  name: string,
  arch: string,
  settings: ImageSettings,
  ctx: TaskContext,
): Promise<void> {
  const layer = path.join(work, 'layer.tar');
  await run('tar', ['-C', root, '--numeric-owner', '-cf', layer, '.'], ctx.signal);
  const diffId = await sha256File(layer);
  const created = new Date().toISOString();
  const config = JSON.stringify({
    architecture: arch,
    ...(arch === 'arm64' ? { variant: 'v8' } : {}),
    os: 'linux',
    created,
    config: { Env: settings.env, Cmd: settings.cmd, Labels: settings.labels },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    history: [{ created, created_by: 'microlab images prepare (debootstrap bookworm)' }],
  });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const manifest = JSON.stringify([
    { Config: configName, RepoTags: [name], Layers: [`${diffId}/layer.tar`] },
  ]);
  const size = (await stat(layer)).size;

  const pack = tar.pack();
  const input = Readable.from(pack).pipe(byteCounter(ctx, size));
  const loading = docker
    .loadImage(input, { quiet: true, abortSignal: ctx.signal } as object)
    .then((response) => followStream(docker, response));
  pack.entry({ name: configName, mode: 0o644 }, config);
  pack.entry({ name: `${diffId}/`, type: 'directory', mode: 0o755 });
  await pipeline(createReadStream(layer), pack.entry({ name: `${diffId}/layer.tar`, size, mode: 0o644 }), {
    signal: ctx.signal,
  });
  pack.entry({ name: 'manifest.json', mode: 0o644 }, manifest);
  pack.finalize();
  await loading;
}

/**
 * Bootstraps Debian bookworm for `arch` (default: the host's) into a temporary folder, adds the
 * LTS Node binary, trims it and loads it into the engine as `name`, with `settings`. Packages
 * come from labs/images/base/packages.txt. Cancel kills debootstrap and removes the tree.
 *
 * Errors: `emulation-unavailable` (another architecture without QEMU), `images-unavailable`
 * (Node's binary), a failed command's last lines.
 */
export async function bootstrapTree(
  docker: Docker,
  name: string,
  settings: ImageSettings,
  ctx: TaskContext,
  arch = hostArchitecture(),
): Promise<void> {
  if (arch !== hostArchitecture()) ctx.progress({ message: await ensureEmulation(arch, ctx.signal) });
  const node = await provideNodeBinary(arch, ctx.signal, (message) => ctx.progress({ message }));
  const packages = await readPackageList();
  const work = await mkdtemp(path.join(os.tmpdir(), 'microlab-rootfs-'));
  const root = path.join(work, 'root');
  const cacheDir = debootstrapCacheDir(arch);
  await mkdir(cacheDir, { recursive: true });
  try {
    const args = [
      `--arch=${arch}`,
      '--variant=minbase',
      `--include=${packages.join(',')}`,
      `--cache-dir=${cacheDir}`,
      'bookworm',
      root,
    ];
    if (process.env.MICROLAB_DEBIAN_MIRROR) args.push(process.env.MICROLAB_DEBIAN_MIRROR);
    ctx.progress({ message: 'debootstrap: starting' });
    await run('debootstrap', args, ctx.signal, (line) => {
      if (line.startsWith('I: ')) ctx.progress({ message: `debootstrap: ${line.slice(3)}` });
    });
    throwIfAborted(ctx.signal);
    await unmountUnder(root);
    ctx.progress({ message: `adding Node ${node.version} (${arch})` });
    await copyFile(node.file, path.join(root, 'usr', 'local', 'bin', 'node'));
    ctx.progress({ message: 'trimming caches, docs and locales' });
    await run('sh', [path.join(labsDir(), 'images', 'base', 'trim.sh'), root], ctx.signal);

    ctx.progress({ message: `importing into the engine as ${name}`, bytes: 0 });
    await loadTree(docker, root, work, name, arch, settings, ctx);
  } finally {
    await unmountUnder(root);
    await rm(work, { recursive: true, force: true });
  }
}
