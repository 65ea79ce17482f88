import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DiscoveryInput } from '../../electron/engine/discovery';
import { candidateEndpoints, parseAddress, unreachableHint } from '../../electron/engine/discovery';

function input(overrides: Partial<DiscoveryInput> & { files?: Record<string, string> } = {}): DiscoveryInput {
  const files = overrides.files ?? {};
  return {
    env: {},
    platform: 'linux',
    home: '/home/ada',
    readFile: (file) => files[file],
    ...overrides,
  };
}

const contextMeta = (home: string, name: string) =>
  `${home}/.docker/contexts/meta/${createHash('sha256').update(name).digest('hex')}/meta.json`;

describe('candidateEndpoints', () => {
  it('uses DOCKER_HOST alone when it is set', () => {
    const found = candidateEndpoints(input({ env: { DOCKER_HOST: 'tcp://10.0.0.5:2375' } }));
    expect(found).toEqual([{ address: 'tcp://10.0.0.5:2375', source: 'DOCKER_HOST', explicit: true }]);
  });

  it('uses the current Docker context alone, like the docker CLI', () => {
    const files = {
      '/home/ada/.docker/config.json': JSON.stringify({ currentContext: 'colima' }),
      [contextMeta('/home/ada', 'colima')]: JSON.stringify({
        Name: 'colima',
        Endpoints: { docker: { Host: 'unix:///home/ada/.colima/default/docker.sock' } },
      }),
    };
    expect(candidateEndpoints(input({ platform: 'darwin', files }))).toEqual([
      {
        address: 'unix:///home/ada/.colima/default/docker.sock',
        source: 'docker context "colima" (current context)',
        explicit: true,
        context: { name: 'colima', how: 'current context' },
      },
    ]);
  });

  it('refuses a DOCKER_CONTEXT that does not exist, naming it, with a fix (no fallback)', () => {
    const metaFile = contextMeta('/home/ada', 'nope');
    expect(() => candidateEndpoints(input({ env: { DOCKER_CONTEXT: 'nope' } }))).toThrow(
      expect.objectContaining({
        code: 'engine-context',
        message: `Docker context "nope" (chosen by DOCKER_CONTEXT): context not found (no ${metaFile})`,
        hint: expect.stringMatching(/`docker context ls` .* set DOCKER_CONTEXT to one of them, or unset it/),
      }),
    );
  });

  it('refuses a current context that does not exist or has no Docker endpoint', () => {
    const config = { '/home/ada/.docker/config.json': JSON.stringify({ currentContext: 'gone' }) };
    expect(() => candidateEndpoints(input({ files: config }))).toThrow(
      expect.objectContaining({
        code: 'engine-context',
        message: expect.stringContaining(
          'Docker context "gone" (chosen by the current context in the docker config.json): context not found',
        ),
        hint: expect.stringContaining('`docker context use default`'),
      }),
    );
    const empty = { ...config, [contextMeta('/home/ada', 'gone')]: JSON.stringify({ Endpoints: {} }) };
    expect(() => candidateEndpoints(input({ files: empty }))).toThrow(/"gone" .*: it has no Docker endpoint/);
  });

  it('uses DOCKER_CONTEXT alone when it names a context', () => {
    const files = {
      [contextMeta('/home/ada', 'remote')]: JSON.stringify({
        Endpoints: { docker: { Host: 'ssh://ada@lab-host' } },
      }),
    };
    const found = candidateEndpoints(input({ env: { DOCKER_CONTEXT: 'remote' }, files }));
    expect(found).toEqual([
      {
        address: 'ssh://ada@lab-host',
        source: 'docker context "remote" (DOCKER_CONTEXT)',
        explicit: true,
        context: { name: 'remote', how: 'DOCKER_CONTEXT' },
      },
    ]);
  });

  it('ignores the "default" context and unreadable config', () => {
    const files = { '/home/ada/.docker/config.json': '{ not json' };
    expect(candidateEndpoints(input({ files }))[0]!.address).toBe('unix:///var/run/docker.sock');
    const defaults = { '/home/ada/.docker/config.json': JSON.stringify({ currentContext: 'default' }) };
    expect(candidateEndpoints(input({ files: defaults }))[0]!.source).toBe('default socket');
  });

  it('knows the Linux sockets: Docker Engine, rootless, Docker Desktop, Colima, Podman', () => {
    const found = candidateEndpoints(input({ env: { XDG_RUNTIME_DIR: '/run/user/1000' } })).map(
      (c) => c.address,
    );
    expect(found).toEqual([
      'unix:///var/run/docker.sock',
      'unix:///run/user/1000/docker.sock',
      'unix:///home/ada/.docker/desktop/docker.sock',
      'unix:///home/ada/.colima/default/docker.sock',
      'unix:///run/user/1000/podman/podman.sock',
      'unix:///run/podman/podman.sock',
    ]);
  });

  it("knows macOS's Docker Desktop socket and Windows' named pipes", () => {
    const mac = candidateEndpoints(input({ platform: 'darwin', home: '/Users/ada' })).map((c) => c.address);
    expect(mac).toContain('unix:///Users/ada/.docker/run/docker.sock');
    const win = candidateEndpoints(input({ platform: 'win32', home: 'C:\\Users\\ada' }));
    expect(win[0]).toEqual({
      address: 'npipe:////./pipe/docker_engine',
      source: 'Docker Desktop (named pipe)',
    });
  });
});

describe('parseAddress', () => {
  it.each([
    ['unix:///var/run/docker.sock', { socketPath: '/var/run/docker.sock' }],
    ['npipe:////./pipe/docker_engine', { socketPath: '\\\\.\\pipe\\docker_engine' }],
    ['tcp://127.0.0.1:2375', { protocol: 'http', host: '127.0.0.1', port: 2375 }],
    ['https://engine.lab:2376', { protocol: 'https', host: 'engine.lab', port: 2376 }],
    ['ssh://ada@lab-host', { protocol: 'ssh', host: 'lab-host', port: 22, username: 'ada' }],
  ])('%s', (address, expected) => {
    expect(parseAddress(address)).toEqual(expected);
  });

  it('rejects what it cannot use, saying what it got', () => {
    expect(() => parseAddress('fd://3')).toThrow(/unsupported engine address "fd:\/\/3"/);
    expect(() => parseAddress('not an address')).toThrow(/cannot read the engine address/);
  });
});

describe('unreachableHint', () => {
  it('gives each platform its own fix', () => {
    expect(unreachableHint('darwin', 'ENOENT')).toMatch(/Docker Desktop|colima start/);
    expect(unreachableHint('win32', 'ENOENT')).toMatch(/Docker Desktop/);
    expect(unreachableHint('linux', 'ECONNREFUSED')).toMatch(/systemctl start docker/);
    expect(unreachableHint('linux', 'EACCES')).toMatch(/docker group/);
  });
});
