/**
 * The renderer's bundle holds no validator: the UI takes its values (deployments, modes,
 * scenarios, targets...) from the API's plain vocabulary (electron/api/vocabulary.ts), never
 * from the contract, whose zod schemas would come along. The modules are those a bundler loads
 * from the renderer's entry following value imports (esbuild's metafile, before tree shaking,
 * so a module the build would shake out still counts); a fixture that takes a value from the
 * contract shows the check can fail.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/** Every module a bundle of `entry` loads (paths relative to the repository). */
async function modulesOf(entry: string): Promise<string[]> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'browser',
    format: 'esm',
    jsx: 'automatic',
    loader: { '.css': 'empty', '.png': 'empty', '.svg': 'empty', '.woff': 'empty', '.woff2': 'empty' },
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

const isZod = (m: string) => /(^|\/)node_modules\/zod\//.test(m);

// A bundle of the whole renderer takes a second or two; more on a busy machine.
const BUNDLE_MS = 60_000;

describe("the renderer's bundle", () => {
  it(
    'loads no module of zod, and none of the contract',
    async () => {
      const modules = await modulesOf('renderer/src/main.tsx');
      expect(modules).toContain('electron/api/vocabulary.ts');
      expect(modules.filter(isZod)).toEqual([]);
      expect(
        modules.filter((m) => /^electron\/api\/(contract|labs|firewall|export|terminal)\.ts$/.test(m)),
      ).toEqual([]);
    },
    BUNDLE_MS,
  );

  it(
    'would: a value taken from the contract brings zod in',
    async () => {
      const modules = await modulesOf('test/fixtures/renderer-bundle/contract-value.ts');
      expect(modules).toContain('electron/api/contract.ts');
      expect(modules.filter(isZod).length).toBeGreaterThan(0);
    },
    BUNDLE_MS,
  );
});
