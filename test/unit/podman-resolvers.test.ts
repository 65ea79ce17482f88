import { describe, expect, it } from 'vitest';
import { resolversOf } from '../../electron/engine/podman';

describe("the engine's resolvers outside a workload's namespace", () => {
  const networks = {
    'lab-edge': { Gateway: '10.213.9.1' },
    'lab-lab': { Gateway: '10.213.8.1' },
    'lab-other': { Gateway: '10.213.8.1' },
    none: {},
  };

  it("on Podman: each network's gateway (aardvark-dns), once each, IPv4 only", () => {
    expect(resolversOf(true, networks)).toEqual(['10.213.8.1', '10.213.9.1']);
    expect(resolversOf(true, { v6: { Gateway: 'fd00::1' } })).toEqual([]);
    expect(resolversOf(true, undefined)).toEqual([]);
  });

  it('on Docker: none (its resolver, 127.0.0.11, is inside the namespace)', () => {
    expect(resolversOf(false, networks)).toEqual([]);
  });
});
