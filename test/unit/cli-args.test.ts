import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../electron/cli/commands';
import { UsageError } from '../../electron/cli/values';

describe('microlab CLI arguments', () => {
  it.each([
    [[], { name: 'help', topic: [] }],
    [['--help'], { name: 'help', topic: [] }],
    [['help', 'policy', 'apply'], { name: 'help', topic: ['policy', 'apply'] }],
    [['images', 'list'], { name: 'images-ls', json: false }],
    [['--version'], { name: 'version' }],
    [['doctor'], { name: 'doctor', json: false }],
    [['doctor', '--json'], { name: 'doctor', json: true }],
    [['status', '--json'], { name: 'status', json: true }],
    [['images', 'ls'], { name: 'images-ls', json: false }],
    [['images', 'prepare'], { name: 'images-prepare' }],
    [['images', 'prepare', '--bundle', 'class.tar'], { name: 'images-prepare', bundle: 'class.tar' }],
    [['images', 'prepare', '--bundle=class.tar'], { name: 'images-prepare', bundle: 'class.tar' }],
    [
      ['images', 'prepare', '--arch', 'amd64,arm64'],
      { name: 'images-prepare', architectures: ['amd64', 'arm64'] },
    ],
    [['images', 'prepare', '--arch=aarch64'], { name: 'images-prepare', architectures: ['arm64'] }],
    [['images', 'import', 'class.tar'], { name: 'images-import', file: 'class.tar' }],
    [['images', 'export', 'out/class.tar'], { name: 'images-export', file: 'out/class.tar' }],
    [['down'], { name: 'down', images: false }],
    [['down', '--images'], { name: 'down', images: true }],
    [['web'], { name: 'web' }],
    [['web', '--port', '4700'], { name: 'web', port: 4700 }],
  ])('%j', (argv, expected) => {
    expect(parseCommand(argv)).toEqual(expected);
  });

  it.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['images'], 'images needs a command: ls, prepare, import or export'],
    [['images', 'rm'], 'unknown images command "rm": images takes ls, prepare, import or export'],
    [
      ['images', 'import'],
      'images import needs FILE (a bundle written by `images export`): microlab images import FILE',
    ],
    [['images', 'import', 'a.tar', 'b.tar'], 'unexpected argument "b.tar"'],
    [['images', 'prepare', '--bundle'], "option '--bundle <FILE>' argument missing"],
    [
      ['images', 'prepare', '--arch', 'amd64,riscv64'],
      '--arch: "riscv64" is not an architecture MicroLab builds (amd64, arm64)',
    ],
    [['doctor', '--jsn'], "unknown option '--jsn'"],
    [['status', 'now'], 'unexpected argument "now"'],
    [['web', '--port', '0'], '--port must be a whole number from 1 to 65535, not "0"'],
    [['web', '--port', 'http'], '--port must be a whole number from 1 to 65535, not "http"'],
    [['help', 'frobnicate'], 'unknown command "frobnicate"'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});
