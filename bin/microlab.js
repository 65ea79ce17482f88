#!/usr/bin/env node
// The `microlab` command. Runs the built CLI (npm install builds it; `npm run build` rebuilds it).
import '../scripts/require-node.mjs'; // first: a too-old Node.js is said before anything else runs
import { main } from '../dist/cli.js';

// A reader that stops early (`microlab exec ... | head`) closes the pipe: stop quietly, as Unix
// tools do, rather than with a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`microlab: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
