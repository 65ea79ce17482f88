// Builds everything that runs: the CLI, Electron's main process and preload, the firewall agent, the shop (esbuild),
// and the renderer (Vite). `node scripts/build.mjs [--no-renderer]`
import './require-node.mjs'; // first: a too-old Node.js is said before anything else runs
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
};

await Promise.all([
  build({ ...common, entryPoints: ['electron/cli.ts'], outfile: 'dist/cli.js', format: 'esm' }),
  build({ ...common, entryPoints: ['bench/main.ts'], outfile: 'dist/bench.js', format: 'esm' }),
  // The firewall agent runs in a container on our base image (Node 24, labs/images/base/node.json): one self-contained file.
  build({
    ...common,
    packages: 'bundle',
    entryPoints: ['electron/agent.ts'],
    outfile: 'dist/agent.cjs',
    format: 'cjs',
    target: 'node24',
    minify: true,
    sourcemap: false,
    external: ['cpu-features', '*.node'],
  }),
  // The shop, for its image (engine/shop-image.ts): one file for the base image's Node 24, pg included
  // (pg loads its optional native binding only when asked to).
  build({
    ...common,
    packages: 'bundle',
    entryPoints: ['labs/shop/src/main.ts'],
    outfile: 'dist/shop.js',
    format: 'cjs',
    target: 'node24',
    sourcemap: false,
    external: ['pg-native'],
    legalComments: 'none',
    logLevel: 'error',
  }),
  build({
    ...common,
    entryPoints: ['electron/main.ts'],
    outfile: 'dist/electron/main.mjs',
    format: 'esm',
    external: ['electron'],
  }),
  // A sandboxed preload must be one CommonJS file.
  build({
    ...common,
    packages: 'bundle',
    entryPoints: ['electron/preload.ts'],
    outfile: 'dist/electron/preload.cjs',
    format: 'cjs',
    external: ['electron'],
  }),
]);
if (!process.argv.includes('--no-renderer'))
  await viteBuild({ configFile: 'vite.config.ts', logLevel: 'warn' });
