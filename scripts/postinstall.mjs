// After `npm install`: fetch Electron's binary when the network allows it. Offline (a
// classroom, CI) that fails, and MicroLab still works: `npm start` then serves the same UI to
// a browser. So a failed download is one line of explanation, never a failed install.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let installer;
try {
  installer = require.resolve('electron/install.js');
} catch {
  process.exit(0); // production install without devDependencies
}
const result = spawnSync(process.execPath, [installer], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
if (result.status !== 0) {
  const reason = (result.stderr || '').trim().split('\n').find((line) => /error/i.test(line)) ?? `exit ${result.status}`;
  console.log(`Electron's binary could not be downloaded (${reason.trim().slice(0, 160)}); \`npm start\` will serve the UI to your browser instead.`);
}
