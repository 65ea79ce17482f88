// Stops with one clear line when this Node.js is older than package.json's `engines.node`
// (a lower bound, `>=MAJOR.MINOR`), before anything fails later in a less obvious way.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const wanted = /^>=(\d+)\.(\d+)/.exec(pkg.engines?.node ?? '');
if (wanted) {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const [needMajor, needMinor] = [Number(wanted[1]), Number(wanted[2])];
  if (major < needMajor || (major === needMajor && minor < needMinor)) {
    process.stderr.write(
      `microlab: needs Node.js ${needMajor}.${needMinor} or later; this is ${process.version}. ` +
        'Install a current LTS (nodejs.org), or `npm install --prefix DIR node@24` and put DIR/node_modules/.bin first on PATH.\n',
    );
    process.exit(1);
  }
}
