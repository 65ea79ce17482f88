/**
 * The labs' services: the handlers behind `labs:*`, over one LabRunner per project.
 * services/index.ts spreads them in. The runner calls the other services through the same
 * dispatcher as every transport (so the labs cannot reach around the product).
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localApi } from '../api/local';
import type { Handlers } from '../api/dispatch';
import { stateDir } from '../firewall/store';
import { hostedClassExports, hostedSeededAnswers, labsProgressFile } from './class-seed';
import { ProgressStore } from '../labs/progress';
import { LabRunner } from '../labs/runner';
import { classRows } from '../labs/summary';
import { studentFromEnv } from '../labs/student';
import { labsDir } from '../paths';
import type { TaskManager } from '../tasks';
import { deployments } from '../topology/declarations';

type LabMethod = Exclude<
  Extract<keyof Handlers, `labs:${string}` | `class:${string}` | `student:${string}`>,
  | 'class:join'
  | 'class:status'
  | 'class:leave'
  | 'class:accept'
  | 'class:interfaces'
  | 'class:host'
  | 'class:host-status'
  | 'class:host-end'
>;

/** The `labs:*` handlers over a runner. */
export function labHandlers(labs: LabRunner): Pick<Handlers, LabMethod> {
  return {
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
    'class:report': ({ files, out, live }) => labs.classReport(files, out, live),
    'class:guide': (input) => labs.guide(input),
    'student:get': () => labs.student(),
    'student:set': ({ name, id }) => labs.setStudent({ name, ...(id ? { id } : {}) }),
  };
}

/**
 * The lab runner, calling the services through the same dispatcher as every transport (so the
 * labs cannot reach around the product). Progress and workspaces live in the user's state
 * directory, per project.
 */
export function createLabRunner(handlers: () => Handlers, tasks: TaskManager, project: string): LabRunner {
  const api = localApi({
    get handlers() {
      return handlers();
    },
    tasks,
  });
  const root = path.join(stateDir(), project, 'labs');
  const account = os.userInfo().username;
  return new LabRunner({
    client: { call: api.call, on: api.on, wait: (id) => tasks.wait(id) },
    guidesDir: path.join(labsDir(), 'guides'),
    policiesDir: path.join(labsDir(), 'policies'),
    workspaceRoot: path.join(root, 'workspace'),
    store: new ProgressStore(labsProgressFile(project), account),
    account,
    envStudent: () => studentFromEnv(process.env),
    seededAnswers: () => hostedSeededAnswers(project),
    hostedExports: (labs) => hostedClassExports(project, labs),
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
