import { describe, expect, it } from 'vitest';
import { planImport } from '../../electron/engine/bundle';
import type { BundleIndex } from '../../electron/engine/bundle';
import { architectureImageName, normalizeArchitecture, parseArchitectures } from '../../electron/engine/arch';

const names = ['microlab/base:0.1.0', 'microlab/shop:0.1.0'];

/** A bundle written on an amd64 engine that prepared both architectures. */
const twoArchitectures: BundleIndex = {
  version: 2,
  architectures: [
    { architecture: 'amd64', file: 'amd64.tar', images: names.map((name) => ({ name, saved: name })) },
    {
      architecture: 'arm64',
      file: 'arm64.tar',
      images: names.map((name) => ({ name, saved: `${name}-arm64` })),
    },
  ],
};

describe('the import planner', () => {
  it('an engine reported as arm64 takes the arm64 half, tagged as the names the labs run', () => {
    expect(planImport(twoArchitectures, 'arm64')).toEqual({
      action: 'load',
      architecture: 'arm64',
      file: 'arm64.tar',
      retag: [
        { from: 'microlab/base:0.1.0-arm64', to: 'microlab/base:0.1.0' },
        { from: 'microlab/shop:0.1.0-arm64', to: 'microlab/shop:0.1.0' },
      ],
      names,
    });
  });

  it('an amd64 engine takes the amd64 half, under the names it was saved with', () => {
    expect(planImport(twoArchitectures, 'amd64')).toEqual({
      action: 'load',
      architecture: 'amd64',
      file: 'amd64.tar',
      retag: [],
      names,
    });
  });

  it('a bundle without the engine architecture is refused, saying what it holds and what to do', () => {
    const amd64Only: BundleIndex = { version: 2, architectures: [twoArchitectures.architectures[0]!] };
    const plan = planImport(amd64Only, 'arm64', 'class.tar');
    expect(plan).toMatchObject({ action: 'refuse' });
    if (plan.action !== 'refuse') return;
    expect(plan.message).toBe(
      "class.tar holds images for amd64, not for this engine's arm64: they would run emulated, where nftables does not work",
    );
    expect(plan.hint).toContain('microlab images prepare --arch amd64,arm64');
    expect(planImport({ version: 2, architectures: [] }, 'amd64')).toMatchObject({ action: 'refuse' });
  });

  it('a bundle written before (one docker save archive) loads whole on its own architecture only', () => {
    const legacy: BundleIndex = {
      version: 1,
      architectures: [{ architecture: 'amd64', images: names.map((name) => ({ name, saved: name })) }],
    };
    expect(planImport(legacy, 'amd64')).toEqual({
      action: 'load',
      architecture: 'amd64',
      file: undefined,
      retag: [],
      names,
    });
    expect(planImport(legacy, 'arm64')).toMatchObject({ action: 'refuse' });
    const mixed: BundleIndex = {
      version: 1,
      architectures: [...legacy.architectures, { architecture: 'arm64', images: [] }],
    };
    expect(planImport(mixed, 'amd64')).toMatchObject({
      action: 'refuse',
      message: expect.stringContaining('mixes architectures (amd64, arm64)'),
    });
  });
});

describe('architecture names', () => {
  it.each([
    ['x86_64', 'amd64'],
    ['x64', 'amd64'],
    ['aarch64', 'arm64'],
    ['ARM64', 'arm64'],
    ['s390x', 's390x'],
  ])('%s is %s', (given, docker) => expect(normalizeArchitecture(given)).toBe(docker));

  it('the engine architecture keeps the labs name; another gets a tag suffix', () => {
    expect(architectureImageName('microlab/base:0.1.0', 'amd64', 'amd64')).toBe('microlab/base:0.1.0');
    expect(architectureImageName('microlab/base:0.1.0', 'arm64', 'amd64')).toBe('microlab/base:0.1.0-arm64');
    expect(architectureImageName('microlab/shop:0.1.0-arm64', 'arm64', 'amd64')).toBe(
      'microlab/shop:0.1.0-arm64',
    );
  });

  it('parses a list in order without repeats, and names an entry it does not build', () => {
    expect(parseArchitectures('arm64, x86_64,arm64')).toEqual(['arm64', 'amd64']);
    expect(() => parseArchitectures('amd64,')).toThrow('"" is not an architecture MicroLab builds');
  });
});
