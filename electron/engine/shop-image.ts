/**
 * The shop image, built from local material only: the shop's TypeScript (labs/shop/src) is
 * bundled with esbuild into one file for Node 18, and sent with labs/images/shop/ as the
 * build context of a Dockerfile `FROM microlab/base`. The image carries a hash of that
 * context, so a changed shop is rebuilt and an unchanged one is not.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type * as Esbuild from 'esbuild';
import { ApiError } from '../errors';
import type { TaskContext } from '../tasks';
import { labsDir } from '../paths';
import { APP_VERSION, IMAGE_LABEL, imageLabelsFor } from './labels';

export const SHOP_REPOSITORY = 'microlab/shop';
/** The hash of the build context (and the base image) an image was built from. */
export const SOURCE_LABEL = IMAGE_LABEL.source;
const CONTEXT_FILES = ['Dockerfile', 'postgresql.conf', 'pg_hba.conf'];

/**
 * The shop image's name: `microlab/shop:<version>`, or MICROLAB_SHOP_IMAGE when set (a name of
 * its own for a checkout whose shop differs from the others' sharing one engine: `images
 * prepare` builds it, and every container this process creates runs it).
 */
export function shopImageName(version = APP_VERSION): string {
  return process.env.MICROLAB_SHOP_IMAGE || `${SHOP_REPOSITORY}:${version}`;
}

/** Bundles the shop into `dir`/shop.js. Undefined when esbuild is not installed (a packaged app). */
async function bundleShop(dir: string): Promise<string | undefined> {
  let esbuild: typeof Esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return undefined;
  }
  const outfile = path.join(dir, 'shop.js');
  await esbuild.build({
    entryPoints: [path.join(labsDir(), 'shop', 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    // pg loads its optional native binding only when asked to.
    external: ['pg-native'],
    legalComments: 'none',
    logLevel: 'error',
  });
  return outfile;
}

/** Assembles the build context in a temporary folder; returns it with the context's hash. */
async function assembleContext(baseId: string): Promise<{ dir: string; hash: string } | undefined> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-shop-'));
  try {
    if (!(await bundleShop(dir))) {
      await rm(dir, { recursive: true, force: true });
      return undefined;
    }
    for (const file of CONTEXT_FILES)
      await copyFile(path.join(labsDir(), 'images', 'shop', file), path.join(dir, file));
    // A rebuilt base (new packages) makes the shop stale too: its layers stand on the base.
    const hash = createHash('sha256').update(baseId);
    for (const file of ['shop.js', ...CONTEXT_FILES])
      hash.update(file).update(await readFile(path.join(dir, file)));
    return { dir, hash: hash.digest('hex').slice(0, 16) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function imageLabels(docker: Docker, name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await docker.getImage(name).inspect()).Config.Labels ?? {};
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/**
 * Makes sure the shop image is present and built from the current source; builds it when
 * missing or stale. Needs the base image. Returns one line saying what it did.
 */
export async function provideShopImage(docker: Docker, baseImage: string, ctx: TaskContext): Promise<string> {
  const name = shopImageName();
  const labels = await imageLabels(docker, name);
  const baseId = (await docker.getImage(baseImage).inspect()).Id;
  const context = await assembleContext(baseId);
  if (!context) {
    if (labels) return `${name} is present`;
    throw new ApiError(
      'images-unavailable',
      `cannot build ${name}: the shop's build tools are not installed`,
      'Import a classroom bundle with `microlab images import FILE`.',
    );
  }
  try {
    if (labels?.[SOURCE_LABEL] === context.hash) return `${name} is up to date`;
    ctx.progress({ message: `building ${name}` });
    const stream = await docker.buildImage({ context: context.dir, src: ['shop.js', ...CONTEXT_FILES] }, {
      t: name,
      buildargs: { BASE: baseImage },
      labels: imageLabelsFor('shop', context.hash),
      rm: true,
      forcerm: true,
      abortSignal: ctx.signal,
    } as object);
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null, lines: { error?: string }[]) => {
          const failed = err?.message ?? lines.find((l) => l.error)?.error;
          if (failed) reject(new ApiError('image-build-failed', `building ${name} failed: ${failed}`));
          else resolve();
        },
        (line: { stream?: string }) => {
          const text = String(line.stream ?? '').trim();
          if (text.startsWith('Step ')) ctx.progress({ message: `${name}: ${text}` });
        },
      );
    });
    return labels ? `rebuilt ${name} (the shop changed)` : `built ${name}`;
  } finally {
    await rm(context.dir, { recursive: true, force: true });
  }
}
