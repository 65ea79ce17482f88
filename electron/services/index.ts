/**
 * MicroLab's services: the one implementation of the API contract. Electron IPC, the
 * browser transport and the CLI all call these handlers.
 */
import type { StatusReport } from '../api/contract';
import type { Handlers } from '../api/dispatch';
import { EventBus } from '../api/events';
import { down, listResources, reconcile } from '../engine/cleanup';
import { runDoctor } from '../engine/doctor';
import { doctorFirewallCheck } from '../firewall/features';
import { exportBundle, importBundle, listImages, prepareImages, PREPARE_STEPS } from '../engine/images';
import { currentProject } from '../engine/labels';
import { engineProduct } from '../engine/podman';
import { EngineRegistry } from '../engine/registry';
import { TaskManager } from '../tasks';
import { createFirewallService } from './firewall';
import type { FirewallService } from './firewall';
import { currentDeployment } from '../topology/apply';
import { joinedSeed } from './class-seed';
import { deploymentHandlers } from './deployments';
import { createLabRunner, labHandlers } from './labs';
import { createClassService, type ClassService } from './class';
import { createClassHostService, type ClassHostService } from './class-host';
import { localApi } from '../api/local';
import { exportHandlers } from './export';
import { DETACHED } from '../api/connection';
import { createTerminalService } from './terminal';
import type { TerminalSessions } from '../terminal/sessions';

export interface Services {
  handlers: Handlers;
  events: EventBus;
  tasks: TaskManager;
  registry: EngineRegistry;
  project: string;
  /** The segment firewall; a long-running process calls `firewall.watch()`. */
  firewall: FirewallService;
  /** Terminal sessions; a process that ends closes them all (`terminal.closeAll()`). */
  terminal: TerminalSessions;
  /** The app's class client and class host; a process that ends stops both (`klass.stop()`). */
  klass: ClassService;
  /** The class this MicroLab hosts (its dashboard's address opens in the browser). */
  classHost: Pick<ClassHostService, 'isDashboardUrl'>;
}

export function createServices(options: { registry?: EngineRegistry; project?: string } = {}): Services {
  const events = new EventBus();
  const tasks = new TaskManager(events);
  const registry = options.registry ?? new EngineRegistry();
  const project = options.project ?? currentProject();
  const docker = async () => (await registry.get()).docker;

  const firewall = createFirewallService({
    docker,
    project,
    events,
    currentShape: async () => (await currentDeployment(await docker(), project))?.name,
  });
  const terminal = createTerminalService({ docker, project });
  const labs = createLabRunner(() => handlers, tasks, project);
  const classHost = createClassHostService({ project });
  const client = createClassService({
    project,
    events,
    wait: (id) => tasks.wait(id),
    call: localApi({
      get handlers() {
        return handlers;
      },
      tasks,
    }).call,
  });

  const handlers: Handlers = {
    ...firewall.handlers,
    ...terminal.handlers,
    'engine:doctor': () => runDoctor(registry, project, { firewall: doctorFirewallCheck() }),
    'engine:status': async (): Promise<StatusReport> => {
      const { docker, endpoint } = await registry.get();
      const [version, images, resources] = await Promise.all([
        docker.version(),
        listImages(docker),
        listResources(docker, project, { images: false, transient: false }),
      ]);
      return {
        endpoint,
        engineName: engineProduct(version),
        engineVersion: version.Version,
        project,
        images,
        resources,
      };
    },
    'images:list': async () => listImages(await docker()),
    'images:prepare': async ({ bundle, architectures }) => {
      const engine = await docker();
      return tasks.start('images:prepare', 'Prepare images', PREPARE_STEPS, (ctx) =>
        prepareImages(engine, { bundle, architectures }, ctx),
      );
    },
    'images:import': async ({ file }) => {
      const engine = await docker();
      return tasks.start('images:import', `Import ${file}`, 1, async (ctx) => {
        ctx.progress({ step: 1 });
        return `loaded ${(await importBundle(engine, file, ctx)).join(', ')}`;
      });
    },
    'images:export': async ({ file }) => {
      const engine = await docker();
      return tasks.start('images:export', `Export to ${file}`, 1, async (ctx) => {
        ctx.progress({ step: 1 });
        return `wrote ${(await exportBundle(engine, file, ctx)).join(', ')} to ${file}`;
      });
    },
    'tasks:list': async () => tasks.list(),
    'tasks:cancel': async ({ id }) => tasks.cancel(id),
    'resources:list': async () => listResources(await docker(), project, { transient: false }),
    'resources:down': async ({ images }) => down(await docker(), project, { images }),
    ...labHandlers(labs),
    ...client.handlers,
    ...classHost.handlers,
    ...exportHandlers({
      status: () => handlers['deploy:status']({}, DETACHED),
      policyInForce: async () => (await firewall.handlers['policy:show']({}, DETACHED)).policy,
    }),
    ...deploymentHandlers({
      docker,
      tasks,
      events,
      project,
      afterStart: () => firewall.reconcile(),
      afterLoad: (report) => labs.recordLoad(report),
      openNamespace: (spec) => firewall.openNamespace(spec),
      beforeUp: (deployment, running) => firewall.setAsideFor(deployment, running),
      classSeed: () => joinedSeed(project),
    }),
  };

  const klass: ClassService = {
    handlers: client.handlers,
    stop: async () => {
      await Promise.all([client.stop(), classHost.stop()]);
    },
  };
  return {
    handlers,
    events,
    tasks,
    registry,
    project,
    firewall,
    terminal: terminal.sessions,
    klass,
    classHost,
  };
}

/** Start-up: remove what a crash left behind. Quietly does nothing when there is no engine yet. */
export async function reconcileOnStart(services: Services): Promise<void> {
  try {
    await reconcile((await services.registry.get()).docker, services.project);
  } catch {
    /* the first screen reports an unreachable engine */
  }
}
