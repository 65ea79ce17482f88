/**
 * Hosting a live class (issue 17), shared by `microlab class host` and the app's class host:
 * the same ClassStore and ClassHost in the same state folder (`class-host/`), so either picks up
 * the class the other started. The app's host runs in the main process while the app runs and
 * stops with it (the class stays in its store: hosting again picks it up). The class and
 * instructor tokens are never logged; the status carries them only inside the join code and the
 * dashboard's address, both meant for the instructor's screen.
 */
import path from 'node:path';
import QRCode from 'qrcode';
import type { ClassHostStatus, ClassInterface } from '../api/class';
import type { Handlers } from '../api/dispatch';
import { ClassHost } from '../class/host';
import { addressOf, networkInterfaces } from '../class/interfaces';
import { ClassStore } from '../class/store';
import { ApiError } from '../errors';
import { loadLabs } from '../labs/loader';
import { labsDir, rendererDir } from '../paths';
import { classHostDir } from './class-seed';
import { sleep } from '../wait';

/** The port a class listens on unless told otherwise (0: a free one). */
export const DEFAULT_CLASS_PORT = 8443;

/** How long an ended class still answers, ms: the students learn it from their next answer (they ask every second). */
export const CLASS_END_GRACE_MS = 3000;

export interface OpenClassHostOptions {
  project: string;
  /** The classroom network's interface; required for a new class, else the class's own. */
  iface?: string;
  /** TCP port for a new class (a class picked up keeps its own); 0 takes a free one. */
  port: number;
  autoApprove: boolean;
  /** Start a new class even if one is in progress (it is replaced). */
  fresh: boolean;
  /** Told of each join request and each refusal, one line (no token). */
  onNotice?: (line: string) => void;
  /** Whose words the hints use: the CLI's options (default) or the app's fields. */
  wording?: 'cli' | 'app';
}

export interface OpenedClassHost {
  store: ClassStore;
  /** Listening. */
  host: ClassHost;
  /** The class was picked up from the store, not created. */
  resumed: boolean;
}

/**
 * Opens the class in progress (or creates one on `iface`) and starts its host. Throws ApiError
 * `class-interface` (no interface named, an unknown one, one without an address, or not the
 * interface of the class in progress: the hint lists the interfaces), `class-listen` (the
 * address or port cannot be had). Nothing is left listening when it throws.
 */
export async function openClassHost(o: OpenClassHostOptions): Promise<OpenedClassHost> {
  const app = o.wording === 'app';
  const store = new ClassStore(classHostDir(o.project));
  const resumed = !o.fresh && (await store.open());
  if (!resumed) {
    const address = addressOf(o.iface, undefined, app ? 'in the Interface list' : 'with --interface');
    await store.create(o.iface!, address, o.port, o.autoApprove);
  } else if (o.iface && o.iface !== store.data.class.interface)
    throw new ApiError(
      'class-interface',
      `the class in progress is hosted on ${store.data.class.interface}, not ${o.iface}`,
      app
        ? `Pick ${store.data.class.interface} to pick it up again, or start a new class.`
        : 'Leave --interface out to pick it up again, or start a new class with --new.',
    );
  const { labs } = await loadLabs(path.join(labsDir(), 'guides'));
  const host = new ClassHost({
    store,
    labs: labs.map((l) => l.lab),
    uiDir: rendererDir(),
    ...(o.onNotice ? { onNotice: o.onNotice } : {}),
  });
  try {
    await host.start();
  } catch (err) {
    if (app && err instanceof ApiError && err.code === 'class-listen' && err.hint)
      throw new ApiError(
        err.code,
        err.message,
        'Another program holds the port: pick another (0 takes a free one).',
      );
    throw err;
  }
  return { store, host, resumed };
}

/** The join code as a QR code: for a terminal (block characters), or an SVG document 256 px square. */
export function joinCodeQr(code: string, type: 'terminal' | 'svg'): Promise<string> {
  return type === 'terminal'
    ? QRCode.toString(code, { type: 'terminal', small: true })
    : QRCode.toString(code, { type: 'svg', margin: 2, width: 256 });
}

type HostMethod = 'class:interfaces' | 'class:host' | 'class:host-status' | 'class:host-end';

export interface ClassHostService {
  handlers: Pick<Handlers, HostMethod>;
  /** Stops hosting (the app quits); the class stays in its store, to be picked up again. */
  stop(): Promise<void>;
  /** Whether `url` is the dashboard of the class hosted now (the app opens it in the browser). */
  isDashboardUrl(url: string): boolean;
}

export function createClassHostService(o: { project: string }): ClassHostService {
  let hosted: (OpenedClassHost & { qrSvg: string }) | undefined;
  // One start or end at a time: two clicks never open the store twice.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };

  const status = async (): Promise<ClassHostStatus> => {
    if (!hosted) {
      const store = new ClassStore(classHostDir(o.project));
      if (!(await store.open())) return { running: false };
      const c = store.data.class;
      return {
        running: false,
        inProgress: {
          interface: c.interface,
          address: c.address,
          port: c.port,
          students: store.data.students.length,
        },
      };
    }
    const { store, host, resumed, qrSvg } = hosted;
    const d = store.data;
    return {
      running: true,
      resumed,
      classId: d.class.id,
      interface: d.class.interface,
      address: d.class.address,
      port: d.class.port,
      autoApprove: d.class.autoApprove,
      joinCode: host.joinCode(),
      qrSvg,
      fingerprint: d.fingerprint,
      dashboardUrl: host.dashboardUrl(),
      pending: d.students.filter((s) => s.state === 'pending').length,
      students: d.students.length,
    };
  };

  const stop = () =>
    serial(async () => {
      const running = hosted;
      hosted = undefined;
      await running?.host.stop();
    });

  const handlers: Pick<Handlers, HostMethod> = {
    'class:interfaces': async (): Promise<ClassInterface[]> => networkInterfaces(),
    'class:host': (input) =>
      serial(async () => {
        if (hosted) {
          if (!input.fresh) {
            if (input.interface !== hosted.store.data.class.interface)
              throw new ApiError(
                'class-interface',
                `the class in progress is hosted on ${hosted.store.data.class.interface}, not ${input.interface}`,
                'End it first to start a new class on another interface.',
              );
            return status();
          }
          await hosted.host.stop();
          hosted = undefined;
        }
        const opened = await openClassHost({
          project: o.project,
          iface: input.interface,
          port: input.port ?? DEFAULT_CLASS_PORT,
          autoApprove: input.autoApprove ?? false,
          fresh: input.fresh ?? false,
          wording: 'app',
        });
        hosted = { ...opened, qrSvg: await joinCodeQr(opened.host.joinCode(), 'svg') };
        return status();
      }),
    'class:host-status': () => status(),
    'class:host-end': () =>
      serial(async () => {
        if (!hosted)
          throw new ApiError(
            'class-not-hosted',
            'this MicroLab hosts no class now',
            'Start one (or pick the class in progress up again) first.',
          );
        const running = hosted;
        await running.host.end();
        await sleep(CLASS_END_GRACE_MS);
        hosted = undefined;
        await running.host.stop();
        return status();
      }),
  };

  const isDashboardUrl = (url: string) => Boolean(hosted) && url === hosted!.host.dashboardUrl();

  return { handlers, stop, isDashboardUrl };
}
