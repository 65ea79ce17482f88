// Writes labs/guides/lab.schema.json from the lab format (electron/labs/format.ts),
// so editors can complete and check lab files. A unit test fails when the file is out of date.
// `node scripts/lab-schema.mjs`
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
// Built next to node_modules, so the bundle finds zod and yaml.
const dir = await mkdtemp(path.join(root, 'node_modules', '.lab-schema-'));
try {
  const outfile = path.join(dir, 'lab.mjs');
  await build({
    entryPoints: [path.join(root, 'electron/labs/format.ts')],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    outfile,
    logLevel: 'warning',
  });
  const { labJsonSchema } = await import(pathToFileURL(outfile).href);
  const target = path.join(root, 'labs/guides/lab.schema.json');
  await writeFile(target, `${JSON.stringify(labJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
