// Writes the published JSON Schemas from their zod schemas, so editors can complete and check
// the files: labs/policies/policy.schema.json (electron/firewall/policy.ts) and
// labs/guides/lab.schema.json (electron/labs/format.ts). Unit tests fail when one is out of date.
// `node scripts/json-schemas.mjs`
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const SCHEMAS = [
  { source: 'electron/firewall/policy.ts', exported: 'policyJsonSchema', target: 'labs/policies/policy.schema.json' },
  { source: 'electron/labs/format.ts', exported: 'labJsonSchema', target: 'labs/guides/lab.schema.json' },
];

// Built next to node_modules, so the bundles find zod and yaml.
const dir = await mkdtemp(path.join(root, 'node_modules', '.json-schemas-'));
try {
  for (const { source, exported, target } of SCHEMAS) {
    const outfile = path.join(dir, `${path.basename(source, '.ts')}.mjs`);
    await build({
      entryPoints: [path.join(root, source)],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      outfile,
      logLevel: 'warning',
    });
    const schema = (await import(pathToFileURL(outfile).href))[exported]();
    await writeFile(path.join(root, target), `${JSON.stringify(schema, null, 2)}\n`);
    console.log(`wrote ${target}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
