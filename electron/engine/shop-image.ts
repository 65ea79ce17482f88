/**
 * The shop image, built from local material only: the shop's bundle (dist/shop.js, which
 * `npm run build` makes from labs/shop/src) is sent with labs/images/shop/ as the build
 * context of a Dockerfile `FROM microlab/base`. The image carries a hash of that
 * context, so a changed shop is rebuilt and an unchanged one is not.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { ApiError } from '../errors';
import type { TaskContext } from '../tasks';
import { appRoot, labsDir } from '../paths';
import { APP_VERSION, IMAGE_LABEL, imageLabelsFor } from './labels';

export const SHOP_REPOSITORY = 'microlab/shop';
/** The hash of the build context (and the base image) an image was built from. */
export const SOURCE_LABEL = IMAGE_LABEL.source;
const CONTEXT_FILES = ['Dockerfile', 'postgresql.conf', 'pg_hba.conf'];
const SHOP_BUNDLE = 'shop.js';

/**
 * The shop image's name: `microlab/shop:<version>`, or MICROLAB_SHOP_IMAGE when set (a name of
 * its own for a checkout whose shop differs from the others' sharing one engine: `images
 * prepare` builds it, and every container this process creates runs it).
 */
export function shopImageName(version = APP_VERSION): string {
  return process.env.MICROLAB_SHOP_IMAGE || `${SHOP_REPOSITORY}:${version}`;
}

/**
 * The shop's bundle, as `npm run build` wrote it (dist/shop.js: labs/shop/src bundled by
 * esbuild into one file for the base image's Node, `pg` included). A packaged app ships it.
 */
export function shopBundleFile(): string {
  return path.join(appRoot(), 'dist', SHOP_BUNDLE);
}

/** Assembles the build context in a temporary folder; returns it with the context's hash. */
async function assembleContext(
  baseId: string,
  bundle: string,
): Promise<{ dir: string; hash: string } | undefined> {
  if (!existsSync(bundle)) return undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-shop-'));
  try {
    await copyFile(bundle, path.join(dir, SHOP_BUNDLE));
    for (const file of CONTEXT_FILES)
      await copyFile(path.join(labsDir(), 'images', 'shop', file), path.join(dir, file));
    // A rebuilt base (new packages) makes the shop stale too: its layers stand on the base.
    const hash = createHash('sha256').update(baseId);
    for (const file of [SHOP_BUNDLE, ...CONTEXT_FILES])
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
 * Makes sure the shop image `name` (by default shopImageName()) is present and built on
 * `baseImage` from the current bundle (`bundle`, by default dist/shop.js); builds it when
 * missing or stale. Needs the base image; the shop image has its architecture. Returns one
 * line saying what it did.
 *
 * Errors: `images-unavailable` when the image is missing and there is no bundle to build it
 * from; `image-build-failed` with the engine's message.
 */
export async function provideShopImage(
  docker: Docker,
  baseImage: string,
  ctx: TaskContext,
  bundle = shopBundleFile(),
  name = shopImageName(),
): Promise<string> {
  const labels = await imageLabels(docker, name);
  const baseId = (await docker.getImage(baseImage).inspect()).Id;
  const context = await assembleContext(baseId, bundle);
  if (!context) {
    if (labels) return `${name} is present`;
    throw new ApiError(
      'images-unavailable',
      `cannot build ${name}: the shop is not built (${SHOP_BUNDLE} is missing)`,
      'Run `npm run build`, or import a classroom bundle with `microlab images import FILE`.',
    );
  }
  try {
    if (labels?.[SOURCE_LABEL] === context.hash) return `${name} is up to date`;
    ctx.progress({ message: `building ${name}` });
    const stream = await docker.buildImage({ context: context.dir, src: [SHOP_BUNDLE, ...CONTEXT_FILES] }, {
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
