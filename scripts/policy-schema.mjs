// Writes labs/policies/policy.schema.json from the policy's zod schema (electron/firewall/policy.ts),
// so editors can complete and check policy files. A unit test fails when the file is out of date.
// `node scripts/policy-schema.mjs`
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
// Built next to node_modules, so the bundle finds zod and yaml.
const dir = await mkdtemp(path.join(root, 'node_modules', '.policy-schema-'));
try {
  const outfile = path.join(dir, 'policy.mjs');
  await build({
    entryPoints: [path.join(root, 'electron/firewall/policy.ts')],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    outfile,
    logLevel: 'warning',
  });
  const { policyJsonSchema } = await import(pathToFileURL(outfile).href);
  const target = path.join(root, 'labs/policies/policy.schema.json');
  await writeFile(target, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
