/**
 * MicroLab's services: the one implementation of the API contract. Electron IPC, the
 * browser transport and the CLI all call these handlers.
 */
import path from 'node:path';
import type { StatusReport } from '../api/contract';
import type { Handlers } from '../api/dispatch';
import { EventBus } from '../api/events';
import { down, listResources, reconcile } from '../engine/cleanup';
import { runDoctor } from '../engine/doctor';
import { exportBundle, importBundle, listImages, prepareImages, PREPARE_STEPS } from '../engine/images';
import { currentProject } from '../engine/labels';
import { EngineRegistry } from '../engine/registry';
import { TaskManager } from '../tasks';
import { createFirewallService } from './firewall';
import type { FirewallService } from './firewall';
import { readStoredPolicy } from '../firewall/store';
import { currentDeployment } from '../topology/apply';
import { deploymentHandlers } from './deployments';
import { createTerminalService } from './terminal';
import type { TerminalSessions } from '../terminal/sessions';
import { stateDir } from '../firewall/store';
import { deployments } from '../topology/declarations';
import { labsDir } from '../paths';
import { localApi } from '../api/local';
import { LabRunner } from '../labs/runner';
import { ProgressStore } from '../labs/progress';
import { classRows } from '../labs/summary';
import { readdirSync } from 'node:fs';
import os from 'node:os';

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

  const handlers: Handlers = {
    ...firewall.handlers,
    ...terminal.handlers,
    'engine:doctor': () => runDoctor(registry, project),
    'engine:status': async (): Promise<StatusReport> => {
      const { docker, endpoint } = await registry.get();
      const [version, images, resources] = await Promise.all([
        docker.version(),
        listImages(docker),
        listResources(docker, project, { images: false, transient: false }),
      ]);
      return { endpoint, engineVersion: version.Version, project, images, resources };
    },
    'images:list': async () => listImages(await docker()),
    'images:prepare': async ({ bundle }) => {
      const engine = await docker();
      return tasks.start('images:prepare', 'Prepare images', PREPARE_STEPS, (ctx) =>
        prepareImages(engine, { bundle }, ctx),
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
    'labs:list': () => labs.list(),
    'labs:get': ({ lab }) => labs.get(lab),
    'labs:start': ({ lab, step }) => labs.start(lab, step),
    'labs:status': () => labs.status(),
    'labs:check': () => labs.check(),
    'labs:hint': () => labs.hint(),
    'labs:solve': () => labs.solve(),
    'labs:reset': ({ step }) => labs.reset(step),
    'labs:next': () => labs.next(),
    'labs:action': ({ action }) => labs.action(action),
    'labs:answer': ({ question, answer }) => labs.answer(question, answer),
    'labs:read': ({ lab, file }) => labs.readWorkspace(lab, file),
    'labs:save': ({ lab, file, text }) => labs.saveWorkspace(lab, file, text),
    'labs:progress': () => labs.progress(),
    'labs:summary': ({ lab }) => labs.summary(lab),
    'labs:table': () => labs.table(),
    'labs:export': ({ file }) => labs.export(file),
    'labs:class': async ({ files }) => classRows(files),
    ...deploymentHandlers({
      docker,
      tasks,
      events,
      project,
      afterStart: () => firewall.reconcile(),
      beforeUp: async (deployment, running) => {
        const source = await readStoredPolicy(project);
        // A policy applied while nothing ran counts as written for the shape running now, if any.
        const shape = source?.deployment ?? running;
        if (!source || !shape || shape === deployment) return undefined;
        await firewall.handlers['policy:clear']({});
        const what =
          source.file === 'inline' ? 'the policy in force' : `the policy ${path.basename(source.file)}`;
        return `${what} was applied to the ${shape} and is set aside: the ${deployment} starts with no policy; apply one written for it, e.g. \`microlab policy apply labs/policies/${deployment}-segmented.yaml\``;
      },
    }),
  };

  return { handlers, events, tasks, registry, project, firewall, terminal: terminal.sessions };
}

/**
 * The lab runner, calling the services through the same dispatcher as every transport (so the
 * labs cannot reach around the product). Progress and workspaces live in the user's state
 * directory, per project.
 */
function createLabRunner(handlers: () => Handlers, tasks: TaskManager, project: string): LabRunner {
  const api = localApi({
    get handlers() {
      return handlers();
    },
    tasks,
  });
  const root = path.join(stateDir(), project, 'labs');
  return new LabRunner({
    client: { call: api.call, on: api.on, wait: (id) => tasks.wait(id) },
    guidesDir: path.join(labsDir(), 'guides'),
    policiesDir: path.join(labsDir(), 'policies'),
    workspaceRoot: path.join(root, 'workspace'),
    store: new ProgressStore(path.join(root, 'progress.json'), os.userInfo().username),
    references: () => ({
      workloads: {
        monolith: deployments.monolith.workloads.map((w) => w.name),
        microservices: deployments.microservices.workloads.map((w) => w.name),
      },
      policies: readdirSync(path.join(labsDir(), 'policies')).filter((n) => n.endsWith('.yaml')),
    }),
    ...(process.env.MICROLAB_LAB_PORT ? { port: Number(process.env.MICROLAB_LAB_PORT) } : {}),
    startTask: (kind, title, steps, work) =>
      tasks.start(kind, title, steps, (ctx) => work((step, message) => ctx.progress({ step, message }))),
  });
}

/** Start-up: remove what a crash left behind. Quietly does nothing when there is no engine yet. */
export async function reconcileOnStart(services: Services): Promise<void> {
  try {
    await reconcile((await services.registry.get()).docker, services.project);
  } catch {
    /* the first screen reports an unreachable engine */
  }
}
