/**
 * The app's class host (services/class-host.ts) on a real host on `lo`, port 0: its status
 * carries a join code a student's ClassClient joins with, pinned to the class certificate; the
 * QR code is an SVG; ending it ends the class; an unknown interface is refused with the list;
 * and `microlab class host` opens the class through the same function, so the two share it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClassHostStatus } from '../../electron/api/class';
import { ClassClient } from '../../electron/class/client';
import { decodeJoinCode } from '../../electron/class/protocol';
import { ClassStore, fingerprintOf } from '../../electron/class/store';
import { ApiError } from '../../electron/errors';
import { classHostDir } from '../../electron/services/class-seed';
import {
  createClassHostService,
  openClassHost,
  type ClassHostService,
} from '../../electron/services/class-host';
import { preselectedInterface } from '../../renderer/src/components/HostClassCard';

const project = 'unit-hostapp';
/** These methods use no connection (no terminal, no event of their own). */
const NO_CONNECTION = undefined as never;
let stateDir: string;
let saved: string | undefined;
const services: ClassHostService[] = [];
const dirs: string[] = [];

beforeEach(async () => {
  saved = process.env.MICROLAB_STATE_DIR;
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'mlc-hostapp-'));
  dirs.push(stateDir);
  process.env.MICROLAB_STATE_DIR = stateDir;
});

afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
  if (saved === undefined) delete process.env.MICROLAB_STATE_DIR;
  else process.env.MICROLAB_STATE_DIR = saved;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function service(): ClassHostService {
  const s = createClassHostService({ project });
  services.push(s);
  return s;
}

function running(status: ClassHostStatus): Extract<ClassHostStatus, { running: true }> {
  if (!status.running) throw new Error('the class host does not run');
  return status;
}

describe("the app's class host", () => {
  it('lists the interfaces with their IPv4 addresses, lo among them', async () => {
    const list = await service().handlers['class:interfaces']({}, NO_CONNECTION);
    expect(list.find((i) => i.name === 'lo')).toMatchObject({ ipv4: ['127.0.0.1'], internal: true });
  });

  it('hosts on lo: a join code pinned to the certificate, an SVG QR code, a student who joins, and an end', async () => {
    const s = service();
    expect(await s.handlers['class:host-status']({}, NO_CONNECTION)).toEqual({ running: false });
    const status = running(
      await s.handlers['class:host']({ interface: 'lo', port: 0, autoApprove: false }, NO_CONNECTION),
    );
    expect(status).toMatchObject({ running: true, resumed: false, interface: 'lo', address: '127.0.0.1' });
    expect(status.port).toBeGreaterThan(0);
    const store = new ClassStore(classHostDir(project));
    expect(await store.open()).toBe(true);
    const code = decodeJoinCode(status.joinCode);
    expect(code).toMatchObject({ host: '127.0.0.1', port: status.port });
    expect(code.fingerprint).toBe(fingerprintOf(store.cert));
    expect(status.fingerprint).toBe(code.fingerprint);
    expect(status.qrSvg).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="256" height="256" [^>]*>.*<path [^>]*d="M[^"]+".*<\/svg>\s*$/s,
    );
    expect(status.dashboardUrl).toBe(`https://127.0.0.1:${status.port}/#class=${store.data.instructorToken}`);

    const student = await mkdtemp(path.join(os.tmpdir(), 'mlc-hostapp-student-'));
    dirs.push(student);
    const client = new ClassClient({
      dir: path.join(student, 'class'),
      progressFile: path.join(student, 'progress.json'),
      student: { name: 'Ana Lima' },
      intervalMs: 50,
    });
    await client.load(code);
    const abort = new AbortController();
    const joined = client.join(abort.signal);
    await expect
      .poll(async () => running(await s.handlers['class:host-status']({}, NO_CONNECTION)).pending, {
        timeout: 5000,
      })
      .toBe(1);
    // The joiner waits for the instructor; it stops asking.
    abort.abort();
    await joined.catch(() => undefined);

    const ended = await s.handlers['class:host-end']({}, NO_CONNECTION);
    expect(ended).toEqual({ running: false });
    expect(await new ClassStore(classHostDir(project)).open()).toBe(false);
    // Nothing listens on the port any more.
    await expect(
      new Promise<void>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: status.port }, () => {
          socket.destroy();
          resolve();
        });
        socket.on('error', reject);
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('lets a student in with auto-approve, and picks the class up again after a restart on its own interface', async () => {
    const first = service();
    const status = running(
      await first.handlers['class:host']({ interface: 'lo', port: 0, autoApprove: true }, NO_CONNECTION),
    );
    const student = await mkdtemp(path.join(os.tmpdir(), 'mlc-hostapp-student-'));
    dirs.push(student);
    const client = new ClassClient({
      dir: path.join(student, 'class'),
      progressFile: path.join(student, 'progress.json'),
      student: { name: 'Bo' },
      intervalMs: 50,
    });
    await client.load(decodeJoinCode(status.joinCode));
    await client.join();
    expect(client.status()).toMatchObject({ phase: 'joined', student: 's1' });

    // The app quits, then starts again: the class is in progress on its interface.
    await first.stop();
    const again = service();
    expect(await again.handlers['class:host-status']({}, NO_CONNECTION)).toEqual({
      running: false,
      inProgress: { interface: 'lo', address: '127.0.0.1', port: status.port, students: 1 },
    });
    const picked = running(await again.handlers['class:host']({ interface: 'lo' }, NO_CONNECTION));
    expect(picked).toMatchObject({ resumed: true, classId: status.classId, port: status.port, students: 1 });
    expect(picked.joinCode).toBe(status.joinCode);
    expect(await client.sync()).toBe(0);
  });

  it('refuses an unknown interface with the list, and another interface than the class in progress', async () => {
    const s = service();
    const err = await s.handlers['class:host']({ interface: 'nosuch0' }, NO_CONNECTION).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'class-interface', message: 'no interface "nosuch0" on this machine' });
    expect((err as ApiError).hint).toMatch(
      /^Pick the interface of the classroom's network in the Interface list: .*\blo 127\.0\.0\.1\b/,
    );
    expect(await s.handlers['class:host-status']({}, NO_CONNECTION)).toEqual({ running: false });

    running(await s.handlers['class:host']({ interface: 'lo', port: 0 }, NO_CONNECTION));
    await s.stop();
    await expect(
      service().handlers['class:host']({ interface: 'nosuch0' }, NO_CONNECTION),
    ).rejects.toMatchObject({
      code: 'class-interface',
      message: 'the class in progress is hosted on lo, not nosuch0',
    });
  });

  it('says a port taken is taken, and what to do', async () => {
    const holder = await openClassHost({
      project: 'unit-hostapp-holder',
      iface: 'lo',
      port: 0,
      autoApprove: false,
      fresh: false,
    });
    try {
      const port = holder.store.data.class.port;
      await expect(
        service().handlers['class:host']({ interface: 'lo', port }, NO_CONNECTION),
      ).rejects.toMatchObject({
        code: 'class-listen',
        message: `cannot listen on 127.0.0.1 port ${port}: EADDRINUSE`,
        hint: 'Another program holds the port: pick another (0 takes a free one).',
      });
    } finally {
      await holder.host.stop();
    }
  });

  it('is the function `microlab class host` opens its class with: what one started, the other picks up', async () => {
    const cli = await openClassHost({ project, iface: 'lo', port: 0, autoApprove: false, fresh: false });
    const code = cli.host.joinCode();
    await cli.host.stop();
    const picked = running(await service().handlers['class:host']({ interface: 'lo' }, NO_CONNECTION));
    expect(picked).toMatchObject({ resumed: true, classId: cli.store.data.class.id });
    expect(picked.joinCode).toBe(code);
  });
});

describe("the Host a class card's interface", () => {
  const lo = { name: 'lo', ipv4: ['127.0.0.1'], internal: true };
  const eth0 = { name: 'eth0', ipv4: ['10.0.0.5'], internal: false };
  const wlan0 = { name: 'wlan0', ipv4: ['192.168.1.20'], internal: false };

  it('preselects the only interface outside this machine, else none, and a class in progress its own', () => {
    expect(preselectedInterface([lo, eth0])).toBe('eth0');
    expect(preselectedInterface([lo, eth0, wlan0])).toBe('');
    expect(preselectedInterface([lo])).toBe('');
    expect(preselectedInterface([lo, eth0, wlan0], 'wlan0')).toBe('wlan0');
  });
});
