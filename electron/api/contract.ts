/**
 * The one API contract between MicroLab's services and everything that calls them: the
 * Electron renderer (over IPC), the browser UI and tests (over WebSocket) and the CLI (in
 * process). Inputs are zod schemas, checked at every boundary; outputs are plain types.
 *
 * Channel names say service and method: `images:prepare`, `tasks:update`.
 */
import { z } from 'zod';
import type {
  EndpointStats as LoadEndpointStats,
  Scenario as LoadScenario,
} from '../../labs/shop/src/loadgen/stats';
import type { ApiErrorShape } from '../errors';
import type {
  CheckStatus,
  DoctorCheck,
  DoctorReport,
  DownReport,
  EngineEndpoint,
  ImageInfo,
  LabeledResource,
  StatusReport,
} from '../engine/types';
import type { TaskInfo, TaskProgress, TaskState } from '../tasks';
import type {
  BalancerStatus,
  Call,
  DeploymentName,
  DeploymentStatus,
  Layout,
  LoadReport,
  LoadUpdate,
  WorkloadHealth,
  WorkloadKind,
  WorkloadStatus,
} from '../topology/types';
import { ARCHITECTURES } from '../engine/types';
import type { ClassHostStatus, ClassInterface, ClassJoinStatus } from './class';
import { exportMethods } from './export';
import { DEPLOYMENTS, LAYOUTS, LOAD_SCENARIOS } from './vocabulary';
import { firewallEventNames, firewallMethods } from './firewall';
import type { FirewallEvents } from './firewall';
import { terminalEventNames, terminalMethods } from './terminal';
import type { TerminalEvents } from './terminal';
import {
  ClassGuide,
  ClassReportInput,
  ClassSummary,
  LabsAction,
  LabsAnswer,
  LabsExport,
  LabsGet,
  LabsRead,
  LabsReset,
  LabsSave,
  LabsStart,
  StudentSet,
} from './labs';
import type {
  CheckReport,
  ClassReport,
  ClassRow,
  HintReply,
  LabDetail,
  LabList,
  LabProgress,
  LabStatus,
  LabSummary,
  LabTable,
  ProgressExport,
  StepProgress,
  StudentInfo,
} from './labs';

export type * from './labs';
export type * from './firewall';
export type * from './export';
export * from './vocabulary';

// ---------------------------------------------------------------------------------------
// Shared shapes: each defined by the layer that produces it, carried here unchanged

export type {
  ApiErrorShape,
  BalancerStatus,
  Call,
  CheckStatus,
  DeploymentName,
  DeploymentStatus,
  DoctorCheck,
  DoctorReport,
  DownReport,
  EngineEndpoint,
  ImageInfo,
  LabeledResource,
  Layout,
  LoadReport,
  LoadUpdate,
  StatusReport,
  TaskInfo,
  TaskProgress,
  TaskState,
  WorkloadHealth,
  WorkloadKind,
  WorkloadStatus,
};

/**
 * The load generator's figures (and, in ./vocabulary.ts, its scenarios and default mix) are
 * defined once, by the load generator that runs in the client container
 * (labs/shop/src/loadgen), and carried here unchanged. `load:run`'s `rate` counts scenarios
 * started per second (a browse, a cart, a checkout...), each a few requests.
 */
export type { LoadEndpointStats, LoadScenario };

// ---------------------------------------------------------------------------------------
// Methods

const NoInput = z.object({}).strict();
/** A path on the machine that runs MicroLab's main process. */
const FilePath = z.string().trim().min(1, 'a file path is required').max(4096);

function method<I extends z.ZodType, O>(input: I) {
  return { input, output: undefined as unknown as O };
}

const Deployment = z.enum(DEPLOYMENTS);
const ServiceName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'a service name like catalog');
const DeployUp = z
  .object({
    deployment: Deployment,
    port: z.number().int().min(0).max(65535).optional(),
    layout: z.enum(LAYOUTS).optional(),
  })
  .strict();
const DeployScale = z
  .object({
    service: ServiceName,
    replicas: z.number().int().min(1).max(10),
    /** CPU limit of every replica, in cores (0.25: a quarter of one); absent: unchanged. */
    cpus: z.number().min(0.05).max(4).optional(),
  })
  .strict();
/** Versions 3 and 4 are broken on purpose (labs/shop/src/domains/catalog.ts). */
const DeployUpgrade = z
  .object({
    service: ServiceName,
    version: z.number().int().min(1).max(4),
    /** Seconds each new replica is watched after it was healthy (default UPGRADE_WATCH_S; 0: not watched). */
    watch: z.number().min(0).max(120).optional(),
  })
  .strict();
/** The bounds and steps of a capacity search (`load:run` with `capacity`); absent fields take capacity.ts's defaults. */
const LoadCapacity = z
  .object({
    p95Ms: z.number().positive().max(60_000).optional(),
    maxErrorRate: z.number().min(0).max(1).optional(),
    factor: z.number().min(1.05).max(4).optional(),
    stepSeconds: z.number().min(1).max(60).optional(),
    refine: z.number().int().min(0).max(6).optional(),
    maxRate: z.number().positive().max(1000).optional(),
  })
  .strict();
const LoadRun = z
  .object({
    rate: z.number().positive().max(1000),
    duration: z.number().min(1).max(3600),
    mix: z.partialRecord(z.enum(LOAD_SCENARIOS), z.number().int().min(0).max(1000)).optional(),
    capacity: LoadCapacity.optional(),
  })
  .strict();
const LoadReportInput = z.object({ taskId: z.string().min(1).max(100) }).strict();

/**
 * The guided labs (issue 9; shapes and errors in ./labs.ts). One lab is active per project;
 * check, hint, solve, reset, next and action act on its current step. Start, solve, reset and
 * action are tasks (they may redeploy, apply a policy or run a load).
 */
const labMethods = {
  /** Every lab on the map with the student's progress, and the lab files that did not load. */
  'labs:list': method<typeof NoInput, LabList>(NoInput),
  /** One lab in full: intro, steps (text, actions, checks, questions), claims, workspace. */
  'labs:get': method<typeof LabsGet, LabDetail>(LabsGet),
  /**
   * Makes the lab active and brings deployment, layout and policy to its start (or, with
   * `step`, to step N's start by running the earlier steps' solves).
   */
  'labs:start': method<typeof LabsStart, TaskInfo>(LabsStart),
  /** The active lab, its current step and progress. */
  'labs:status': method<typeof NoInput, LabStatus>(NoInput),
  /** Runs the current step's checks against the real state; a pass records the step's measures. */
  'labs:check': method<typeof NoInput, CheckReport>(NoInput),
  /** Reveals the current step's next hint (counted in progress). */
  'labs:hint': method<typeof NoInput, HintReply>(NoInput),
  /** "Show me": brings the state to the step's goal, then checks; recorded as solved-by-help. */
  'labs:solve': method<typeof NoInput, TaskInfo>(NoInput),
  /**
   * Restores the deployment, scale, versions and policy of step N's start (default: the lab's
   * start) and makes N current; nothing else of the user's is touched.
   */
  'labs:reset': method<typeof LabsReset, TaskInfo>(LabsReset),
  /** Moves to the next step once the current one passed or was solved (else `step-not-done`). */
  'labs:next': method<typeof NoInput, LabStatus>(NoInput),
  /** Runs one of the current step's action buttons (a `terminal` action is the UI's: `ui-action`). */
  'labs:action': method<typeof LabsAction, TaskInfo>(LabsAction),
  /** Records the student's answer to a question of the current step (a `quiz` check reads it). */
  'labs:answer': method<typeof LabsAnswer, StepProgress>(LabsAnswer),
  /** A file of a lab's workspace (where the student writes policies); absolute path and text. */
  'labs:read': method<typeof LabsRead, { file: string; text: string }>(LabsRead),
  /** Writes a file of a lab's workspace; returns its absolute path (what `policy:apply` takes). */
  'labs:save': method<typeof LabsSave, { file: string }>(LabsSave),
  /** Every lab's progress. */
  'labs:progress': method<typeof NoInput, LabProgress[]>(NoInput),
  /** A lab's claims next to the student's own numbers. */
  'labs:summary': method<typeof LabsGet, LabSummary>(LabsGet),
  /** The 2×2 table (plus perimeter and capstone), filled from every lab so far. */
  'labs:table': method<typeof NoInput, LabTable>(NoInput),
  /** Writes the progress as JSON to `file` and as CSV beside it (same name, .csv). */
  'labs:export': method<typeof LabsExport, ProgressExport>(LabsExport),
  /** Reads exported progress files (one per student) into one table of students × labs × steps. */
  'labs:class': method<typeof ClassSummary, ClassRow[]>(ClassSummary),
  /**
   * A class's numbers from exported progress files (ClassReport); with `out`, also writes
   * class-report.json and class-report.csv there. A file that is not a progress export is
   * refused (`bad-progress-file`, naming the file and what is wrong) and nothing is written.
   */
  'class:report': method<typeof ClassReportInput, ClassReport>(ClassReportInput),
  /**
   * The instructor's guide in Markdown, written from the lab files (claims with the article's
   * sentences, core and optional steps, minutes, predictions, why questions, the answer key);
   * with `out`, also written to that file.
   */
  'class:guide': method<typeof ClassGuide, { markdown: string; written?: string; html?: string }>(ClassGuide),
  /** Who this progress belongs to: the student's name and id, and where they come from. */
  'student:get': method<typeof NoInput, StudentInfo>(NoInput),
  /** Sets the student's name (and id), stored with the progress and carried by every export. */
  'student:set': method<typeof StudentSet, StudentInfo>(StudentSet),
} as const;

/**
 * The app's class client (issue 17): a student joins a live class from the first screen with
 * the join code (never logged: the answers carry the host's address, not its token). Every
 * change is pushed as `class:update`.
 */
const ClassJoin = z
  .object({
    /** The join code (MLC1....); absent: take up the class joined before. */
    code: z.string().trim().min(1).max(1000).optional(),
  })
  .strict();
const ClassAccept = z
  .object({ catchUp: z.string().regex(/^c[0-9]{1,6}$/, 'a suggestion id like c1') })
  .strict();
const classClientMethods = {
  /** Joins (bad-join-code, class-no-name), then waits for approval and sends progress in the background. */
  'class:join': method<typeof ClassJoin, ClassJoinStatus>(ClassJoin),
  /** Where this MicroLab is in its class (or none). */
  'class:status': method<typeof NoInput, ClassJoinStatus>(NoInput),
  /** Stops sending and forgets the class on this MicroLab (its unsent events too). */
  'class:leave': method<typeof NoInput, ClassJoinStatus>(NoInput),
  /** Accepts a catch-up suggestion (class-no-catch-up): runs `labs:start` at its step; the task. */
  'class:accept': method<typeof ClassAccept, TaskInfo>(ClassAccept),
} as const;

/**
 * The app's class host (issue 17): the instructor starts a class on one interface (never every
 * interface) from the app's window; the same class `microlab class host` hosts.
 */
const ClassHostStart = z
  .object({
    /** The classroom network's interface (`class:interfaces`); a class picked up keeps its own. */
    interface: z.string().trim().min(1).max(100),
    /** TCP port for a new class (default 8443; 0 takes a free one). */
    port: z.number().int().min(0).max(65535).optional(),
    /** Approve every join without asking (default false). */
    autoApprove: z.boolean().optional(),
    /** Start a new class even if one is in progress (default false: pick it up again). */
    fresh: z.boolean().optional(),
  })
  .strict();
const classHostMethods = {
  /** The machine's interfaces with their IPv4 addresses. */
  'class:interfaces': method<typeof NoInput, ClassInterface[]>(NoInput),
  /** Starts hosting (or picks the class in progress up again): class-interface, class-listen. */
  'class:host': method<typeof ClassHostStart, ClassHostStatus>(ClassHostStart),
  /** The class this MicroLab hosts: its join code, QR code, fingerprint, dashboard, joiners waiting. */
  'class:host-status': method<typeof NoInput, ClassHostStatus>(NoInput),
  /** Ends the class for everyone (class-not-hosted) and stops hosting. */
  'class:host-end': method<typeof NoInput, ClassHostStatus>(NoInput),
} as const;

const ImagesPrepare = z
  .object({
    bundle: FilePath.optional(),
    architectures: z.array(z.enum(ARCHITECTURES)).min(1).max(ARCHITECTURES.length).optional(),
  })
  .strict();

export const methods = {
  'engine:doctor': method<typeof NoInput, DoctorReport>(NoInput),
  'engine:status': method<typeof NoInput, StatusReport>(NoInput),
  'images:list': method<typeof NoInput, ImageInfo[]>(NoInput),
  /** `architectures`: `amd64`, `arm64` (default: the engine's own); another is bootstrapped through QEMU. */
  'images:prepare': method<typeof ImagesPrepare, TaskInfo>(ImagesPrepare),
  'images:import': method<z.ZodObject<{ file: typeof FilePath }>, TaskInfo>(
    z.object({ file: FilePath }).strict(),
  ),
  'images:export': method<z.ZodObject<{ file: typeof FilePath }>, TaskInfo>(
    z.object({ file: FilePath }).strict(),
  ),
  'tasks:list': method<typeof NoInput, TaskInfo[]>(NoInput),
  'tasks:cancel': method<z.ZodObject<{ id: z.ZodString }>, TaskInfo>(
    z.object({ id: z.string().min(1).max(100) }).strict(),
  ),
  'resources:list': method<typeof NoInput, LabeledResource[]>(NoInput),
  'resources:down': method<z.ZodObject<{ images: z.ZodOptional<z.ZodBoolean> }>, DownReport>(
    z.object({ images: z.boolean().optional() }).strict(),
  ),
  /** Starts a deployment of the shop (replacing the other one) and waits until it is healthy. */
  'deploy:up': method<typeof DeployUp, TaskInfo>(DeployUp),
  /** Removes the deployment's containers and networks. */
  'deploy:down': method<typeof NoInput, DownReport>(NoInput),
  'deploy:status': method<typeof NoInput, DeploymentStatus>(NoInput),
  'deploy:scale': method<typeof DeployScale, TaskInfo>(DeployScale),
  /**
   * Rolling replacement of a service's replicas (the monolith restarts as a whole). A new
   * replica that does not become healthy, or fails within the watch after it was healthy, halts
   * the roll and puts the old version back: the task fails with code `rolled-back`.
   */
  'deploy:upgrade': method<typeof DeployUpgrade, TaskInfo>(DeployUpgrade),
  /** Runs the load generator against the storefront; figures arrive as `load:update`. */
  'load:run': method<typeof LoadRun, TaskInfo>(LoadRun),
  /** The totals of a finished `load:run`. */
  'load:report': method<typeof LoadReportInput, LoadReport>(LoadReportInput),
  ...firewallMethods,
  ...exportMethods,
  ...terminalMethods,
  ...labMethods,
  ...classClientMethods,
  ...classHostMethods,
} as const;

export type MethodName = keyof typeof methods;
export type MethodInput<M extends MethodName> = z.input<(typeof methods)[M]['input']>;
export type ParsedInput<M extends MethodName> = z.output<(typeof methods)[M]['input']>;
export type MethodOutput<M extends MethodName> = (typeof methods)[M]['output'];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}

// ---------------------------------------------------------------------------------------
// Events (main -> UI)

export interface Events extends FirewallEvents, TerminalEvents {
  /** Every change of a task: progress, and its final state. */
  'tasks:update': TaskInfo;
  /** Once a second during `load:run`. */
  'load:update': LoadUpdate;
  /** The app's class client changed (approval, messages, released labs, suggestions, the outbox). */
  'class:update': ClassJoinStatus;
}

export type EventName = keyof Events;
export const eventNames: readonly EventName[] = [
  'tasks:update',
  'load:update',
  'class:update',
  ...firewallEventNames,
  ...terminalEventNames,
];

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && (eventNames as readonly string[]).includes(name);
}

// ---------------------------------------------------------------------------------------
// What a caller holds, whatever the transport

export interface Api {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  /** Subscribe to an event stream; returns the disposer. */
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}

/** The one envelope every transport carries a reply in. */
export type Envelope<T> = { ok: true; result: T } | { ok: false; error: ApiErrorShape };

/**
 * What the Electron preload exposes as `window.microlab`: replies stay in their envelope
 * across the context bridge (which would strip an error's code and hint), and the renderer
 * unwraps them into an `Api` (see renderer/src/api.ts).
 */
export interface Bridge {
  invoke(method: MethodName, input: unknown): Promise<Envelope<unknown>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}
