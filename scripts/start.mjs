// `npm start`: the Electron app when it can start here; otherwise one line saying why, and
// the same UI served to a browser (127.0.0.1, a per-run token in the printed address).
import './require-node.mjs'; // first: a too-old Node.js is said before anything else runs
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function whyElectronCannotStart() {
  let binary;
  try {
    binary = require('electron'); // the binary's path; throws when it was never downloaded
  } catch {
    return { why: 'the Electron binary is not installed (it downloads during npm install when the network allows)' };
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { why: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  }
  return { binary };
}

async function serveInBrowser(why) {
  console.log(`Electron cannot start here: ${why}. Serving the same UI to your browser instead.`);
  const { main } = await import('../dist/cli.js');
  process.exit(await main(['web', ...process.argv.slice(2)]));
}

const { binary, why } = whyElectronCannotStart();
if (!binary) {
  await serveInBrowser(why);
} else {
  const started = Date.now();
  const child = spawn(binary, ['.'], { stdio: ['inherit', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    process.stderr.write(chunk);
  });
  child.on('exit', (code) => {
    // An Electron that dies at once (missing system libraries, a broken display) falls back.
    if (code !== 0 && Date.now() - started < 5000) {
      void serveInBrowser(`Electron exited at start (${stderr.trim().split('\n').pop() || `exit ${code}`})`);
    } else {
      process.exit(code ?? 0);
    }
  });
}
