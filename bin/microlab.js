#!/usr/bin/env node
// The `microlab` command. Runs the built CLI (npm install builds it; `npm run build` rebuilds it).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`microlab: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
