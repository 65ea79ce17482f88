/**
 * The lab runner: one active lab per project, its current step, and what the student does with
 * it (start, check, hint, solve, reset, next, actions, answers, workspace files). It reads and
 * changes the shop only through the API client (the calls the UI makes), keeps progress on
 * disk (progress.ts), and runs long work as tasks.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  CheckReport,
  CheckResult,
  HintReply,
  LabDetail,
  LabInfo,
  LabList,
  LabProgress,
  LabStatus,
  LabSummary,
  LabTable,
  ProgressExport,
  LoadReport,
  StepProgress,
  Student,
  StudentInfo,
  TaskInfo,
  ClassReport,
} from '../api/contract';
import { ApiError } from '../errors';
import { describeAction, runEntries } from './actions';
import type { ActionContext } from './actions';
import { describeCheck, runCheck } from './checks';
import type { LabClient } from './client';
import { actionOf } from './format';
import type { Lab, LabStep } from './format';
import type { LabReferences, LoadedLab } from './loader';
import { loadLabs } from './loader';
import { takeMeasures } from './measures';
import { labProgress, recordFailure, stepProgress } from './progress';
import type { ActiveLab, ProgressFile, ProgressStore, Snapshot } from './progress';
import { restore } from './restore';
import { StateReader, takeSnapshot } from './state';
import { exportProgress, summarize, table } from './summary';
import { studentInfo } from './student';
import { readExports, writeClassReport, type ReadExport } from './class-files';
import { classReport } from './class-report';
import { instructorGuide, type SeededAnswers } from './guide';
import { guideHtml } from './guide-html';
import { parseFigures, type LabFigures } from './figures';
import { chooseTrack, parseTracks, type Track } from './tracks';

export interface TaskStarter {
  (
    kind: string,
    title: string,
    steps: number,
    work: (progress: (step: number, message: string) => void) => Promise<string>,
  ): TaskInfo;
}

export interface RunnerOptions {
  client: LabClient;
  /** labs/guides and labs/policies. */
  guidesDir: string;
  policiesDir: string;
  /** Where each lab's workspace folder goes (<root>/<lab id>). */
  workspaceRoot: string;
  store: ProgressStore;
  references: () => LabReferences;
  startTask: TaskStarter;
  /** The storefront's port when a lab starts the shop (absent: the default; 0: any free one). */
  port?: number;
  /** The operating system's user name (recorded, never used to tell students apart). */
  account: string;
  /** The student named by the environment (MICROLAB_STUDENT), which overrides the stored one. */
  envStudent?: () => Student | undefined;
  /** The students of the class this MicroLab hosts and their seeded values, if it hosts one (the guide's per-student key). */
  seededAnswers?: () => Promise<SeededAnswers | undefined>;
  /** The class this MicroLab hosts (or hosted) as exports, one per student (`class report --class`). */
  hostedExports?: (labs: Lab[]) => Promise<ReadExport[] | undefined>;
}

/**
 * Whether the lab is complete with the student at step `at` (1-based): every core step done, and
 * no step from `at` on still pending (an optional step skipped earlier is left behind; one ahead
 * is still to come).
 */
function complete(lab: Lab, progress: LabProgress | undefined, at: number): boolean {
  const pending = (s: LabStep) => (progress?.steps[s.id]?.outcome ?? 'pending') === 'pending';
  return lab.steps.every((s, i) => !pending(s) || (s.optional && i + 1 < at));
}

/** The step's predictions the student has not answered yet. */
function unansweredPredictions(step: LabStep, record: StepProgress) {
  return step.predict.filter((q) => !record.predictions?.[q.id]);
}

const EMPTY: Snapshot = {
  at: new Date(0).toISOString(),
  replicas: {},
  versions: {},
  containers: [],
  counters: {},
};

export class LabRunner {
  constructor(private readonly o: RunnerOptions) {}

  private async labs() {
    return loadLabs(this.o.guidesDir, this.o.references());
  }

  private async find(id: string): Promise<LoadedLab> {
    const { labs, errors } = await this.labs();
    const found = labs.find((l) => l.lab.id === id);
    if (found) return found;
    const broken = errors.find((e) => e.id === id);
    if (broken)
      throw new ApiError(
        'lab-invalid',
        broken.issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'),
        'Fix the lab file; the other labs still open.',
      );
    throw new ApiError('unknown-lab', `no lab "${id}"`, `Labs: ${labs.map((l) => l.lab.id).join(', ')}.`);
  }

  private async active(
    data?: ProgressFile,
  ): Promise<{ data: ProgressFile; active: ActiveLab; loaded: LoadedLab; step: LabStep }> {
    data ??= await this.o.store.read();
    const active = data.active;
    if (!active)
      throw new ApiError('no-active-lab', 'no lab is active', 'Start one: `microlab lab start ID`.');
    const loaded = await this.find(active.lab);
    const step = loaded.lab.steps[active.step - 1];
    if (!step) throw new ApiError('unknown-step', `lab ${active.lab} has no step ${active.step}`);
    return { data, active, loaded, step };
  }

  workspaceDir(lab: string): string {
    return path.join(this.o.workspaceRoot, lab);
  }

  /** Absolute path of a policy reference: workspace:NAME, a file in the lab's folder, or a shipped policy. */
  resolvePolicy(loaded: LoadedLab, ref: string): string {
    if (ref.startsWith('workspace:')) return path.join(this.workspaceDir(loaded.lab.id), ref.slice(10));
    const local = path.join(loaded.dir, path.basename(ref));
    return existsSync(local) ? local : path.join(this.o.policiesDir, path.basename(ref));
  }

  private info(lab: Lab, progress: LabProgress | undefined): LabInfo {
    const steps = lab.steps.map((s) => progress?.steps[s.id]?.outcome ?? 'pending');
    return {
      id: lab.id,
      title: lab.title,
      summary: lab.summary,
      minutes: lab.minutes,
      coreMinutes: lab.coreMinutes ?? lab.minutes,
      quadrant: lab.quadrant,
      order: lab.order,
      steps: lab.steps.length,
      state: progress?.state ?? 'not-started',
      stepsPassed: steps.filter((s) => s === 'passed').length,
      stepsSolved: steps.filter((s) => s === 'solved').length,
    };
  }

  async list(): Promise<LabList> {
    const [{ labs, errors }, data] = await Promise.all([this.labs(), this.o.store.read()]);
    return { labs: labs.map((l) => this.info(l.lab, data.labs[l.lab.id])), errors };
  }

  async get(id: string): Promise<LabDetail> {
    const loaded = await this.find(id);
    const { lab } = loaded;
    const data = await this.o.store.read();
    const info: Omit<LabInfo, 'steps'> & { steps?: number } = this.info(lab, data.labs[id]);
    delete info.steps;
    const dir = this.workspaceDir(id);
    const files = existsSync(dir) ? (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
    return {
      ...info,
      intro: lab.intro,
      finish: lab.finish,
      setup: {
        deployment: lab.setup.deployment,
        layout: lab.setup.layout,
        ...(lab.setup.policy !== 'none' ? { policy: lab.setup.policy } : {}),
      },
      steps: lab.steps.map((s, i) => ({
        index: i + 1,
        id: s.id,
        title: s.title,
        text: s.text,
        actions: s.actions.map((a) => {
          const { kind, spec } = actionOf(a);
          return {
            id: a.id,
            label: a.label,
            action: { kind, ...spec } as LabDetail['steps'][number]['actions'][number]['action'],
          };
        }),
        checks: s.checks.map((c, j) => ({
          id: c.id ?? `${c.kind}-${j + 1}`,
          kind: c.kind,
          description: describeCheck(c),
        })),
        questions: s.questions.map((q) => ({
          id: q.id,
          text: q.text,
          ...(q.choices ? { choices: q.choices } : {}),
        })),
        hints: s.hints.length,
        measures: s.measure.map((m) => ({ id: m.id, label: m.label, unit: m.unit })),
        views: s.views,
        optional: s.optional,
        predict: s.predict.map((q) => ({
          id: q.id,
          text: q.text,
          ...(q.choices ? { choices: q.choices } : {}),
        })),
        explain: s.explain.map((q) => ({ id: q.id, text: q.text })),
      })),
      claims: lab.claims,
      workspace: { dir, files },
    };
  }

  async status(): Promise<LabStatus> {
    const data = await this.o.store.read();
    if (!data.active) return {};
    const { active, loaded, step } = await this.active(data);
    return {
      lab: active.lab,
      title: loaded.lab.title,
      step: active.step,
      steps: loaded.lab.steps.length,
      stepId: step.id,
      current: data.labs[active.lab]?.steps[step.id] ?? stepProgress(data, active.lab, step.id),
      progress: labProgress(data, active.lab),
    };
  }

  private actionContext(loaded: LoadedLab, progress: (m: string) => void): ActionContext {
    return {
      client: this.o.client,
      labDir: loaded.dir,
      workspaceDir: this.workspaceDir(loaded.lab.id),
      resolvePolicy: (ref) => this.resolvePolicy(loaded, ref),
      ...(this.o.port !== undefined ? { port: this.o.port } : {}),
      recordAnswer: async (question, answer) => {
        await this.answer(question, answer);
      },
      progress,
    };
  }

  /**
   * Records a finished load in the active lab (the last 20), whoever started it: a lab's button
   * or solve, a check's own load, the Load view, or `microlab load` in another process. A step's
   * load checks and measures read the loads that ended after the step started.
   */
  async recordLoad(report: LoadReport): Promise<void> {
    await this.o.store.update((data) => {
      data.active?.loads.push({ ...report, endedAt: new Date().toISOString() });
      if (data.active && data.active.loads.length > 20)
        data.active.loads.splice(0, data.active.loads.length - 20);
    });
  }

  /** Makes step `n` current from the state as it is now: records its start snapshot. */
  private async enterStep(lab: string, n: number, snapshot: Snapshot, labStart?: Snapshot): Promise<void> {
    const loaded = await this.find(lab);
    const step = loaded.lab.steps[n - 1]!;
    await this.o.store.update((data) => {
      const now = new Date().toISOString();
      if (!data.active || data.active.lab !== lab)
        data.active = { lab, step: n, since: now, snapshots: {}, loads: [] };
      data.active.step = n;
      data.active.since = now;
      data.active.snapshots[step.id] = snapshot;
      if (labStart) data.active.labStart = labStart;
      const record = labProgress(data, lab);
      if (record.state === 'not-started') record.state = 'in-progress';
      record.startedAt ??= now;
      stepProgress(data, lab, step.id).startedAt ??= now;
    });
  }

  /** Starts (or restarts) a lab; with `step`, jumps to that step's start by solving the earlier ones. */
  start(id: string, stepNumber?: number): Promise<TaskInfo> {
    return this.find(id).then((loaded) => {
      const { lab } = loaded;
      const target = stepNumber ?? 1;
      if (target > lab.steps.length)
        throw new ApiError('unknown-step', `lab ${id} has ${lab.steps.length} steps, not ${target}`);
      return this.o.startTask('labs:start', `Start lab ${lab.title}`, target + 1, async (progress) => {
        progress(
          1,
          `setting up: the ${lab.setup.deployment}${lab.setup.layout === 'perimeter' ? ' behind the perimeter' : ''}`,
        );
        const policy =
          lab.setup.policy === 'none'
            ? undefined
            : { file: this.resolvePolicy(loaded, lab.setup.policy), text: '' };
        if (policy) policy.text = await readFile(policy.file, 'utf8');
        const changed = await restore(
          this.o.client,
          {
            deployment: lab.setup.deployment,
            layout: lab.setup.layout,
            replicas: {},
            versions: {},
            ...(policy ? { policy } : {}),
            ...(this.o.port !== undefined ? { port: this.o.port } : {}),
          },
          (m) => progress(1, m),
        );
        await this.o.store.update((data) => {
          delete data.active;
        });
        const labStart = await takeSnapshot(this.o.client);
        await this.enterStep(id, 1, labStart, labStart);
        for (let n = 1; n < target; n++) {
          const step = lab.steps[n - 1]!;
          progress(n + 1, `step ${n}: ${step.title}`);
          await this.solveCurrent(loaded, step, (m) => progress(n + 1, `step ${n}: ${m}`));
          await this.enterStep(id, n + 1, await takeSnapshot(this.o.client));
        }
        return `lab ${id} at step ${target} of ${lab.steps.length}${changed.length ? ` (${changed.join(', ')})` : ' (the shop was already in shape)'}`;
      });
    });
  }

  /** Runs the current step's checks; on a pass, records the outcome and the measures. */
  async check(): Promise<CheckReport> {
    const { data, active, loaded, step } = await this.active();
    return this.checkStep(loaded, step, active, data, 'passed');
  }

  private async checkStep(
    loaded: LoadedLab,
    step: LabStep,
    active: ActiveLab,
    data: ProgressFile,
    outcomeOnPass: 'passed' | 'solved',
  ): Promise<CheckReport> {
    const stepStart = active.snapshots[step.id] ?? EMPTY;
    const loads = active.loads.filter((l) => l.endedAt >= stepStart.at);
    const state = new StateReader(this.o.client);
    const record = stepProgress(data, active.lab, step.id);
    const results: CheckResult[] = [];
    const unpredicted = unansweredPredictions(step, record);
    if (outcomeOnPass === 'passed' && record.outcome === 'pending' && unpredicted.length)
      results.push({
        id: 'predict',
        kind: 'predict',
        description: 'your prediction is recorded before the measurement',
        passed: false,
        message: `predict first: ${unpredicted.map((q) => `"${q.id}"`).join(', ')} (answer ${unpredicted.length === 1 ? 'it' : 'them'} before you measure; a prediction is final)`,
        durationMs: 0,
      });
    for (const [i, check] of step.checks.entries())
      results.push(
        await runCheck(check, i, {
          client: this.o.client,
          state,
          stepStart,
          labStart: active.labStart ?? EMPTY,
          answers: record.answers,
          loads,
          resolvePolicy: (ref) => this.resolvePolicy(loaded, ref),
          workspaceFile: (name) => path.join(this.workspaceDir(loaded.lab.id), name),
          runLoad: async (spec) => {
            let report: LoadReport | undefined;
            await runEntries([{ load: spec }], {
              ...this.actionContext(loaded, () => {}),
              onLoad: (r) => (report = r),
            });
            return report!;
          },
        }),
      );
    const passed = results.every((r) => r.passed);
    const measured = passed
      ? await takeMeasures(step.measure, {
          state,
          stepStart,
          labStart: active.labStart ?? EMPTY,
          loads: (await this.o.store.read()).active?.loads.filter((l) => l.endedAt >= stepStart.at) ?? loads,
          attempts: record.attempts + 1,
          recorded: Object.values(data.labs[active.lab]?.steps ?? {}).flatMap((s) => s.measurements),
        })
      : { measurements: [], missing: [] };
    const outcome = await this.o.store.update((fresh) => {
      const r = stepProgress(fresh, active.lab, step.id);
      if (outcomeOnPass === 'passed') r.attempts += 1;
      // Which check failed how: the dashboard tells a student failing the same way again.
      if (outcomeOnPass === 'passed' && !passed) recordFailure(r, r.attempts, results);
      if (passed) {
        const now = new Date();
        if (r.outcome === 'pending') {
          r.outcome = outcomeOnPass;
          r.doneAt = now.toISOString();
          if (r.startedAt) r.seconds = Math.round((now.getTime() - Date.parse(r.startedAt)) / 1000);
        }
        const ids = new Set(measured.measurements.map((m) => m.id));
        r.measurements = [...r.measurements.filter((m) => !ids.has(m.id)), ...measured.measurements];
        const lp = labProgress(fresh, active.lab);
        if (complete(loaded.lab, fresh.labs[active.lab], active.step)) {
          lp.state = 'completed';
          lp.completedAt ??= now.toISOString();
        }
      }
      return r.outcome;
    });
    return {
      lab: active.lab,
      step: active.step,
      stepId: step.id,
      passed,
      results,
      measurements: measured.measurements,
      notRecorded: measured.missing,
      outcome,
      steps: loaded.lab.steps.length,
    };
  }

  async hint(): Promise<HintReply> {
    const { active, step } = await this.active();
    if (!step.hints.length) throw new ApiError('no-hint', `step ${active.step} has no hints`);
    const shown = await this.o.store.update((data) => {
      const r = stepProgress(data, active.lab, step.id);
      r.hintsShown = Math.min(step.hints.length, r.hintsShown + 1);
      return r.hintsShown;
    });
    return {
      lab: active.lab,
      step: active.step,
      index: shown,
      of: step.hints.length,
      text: step.hints[shown - 1]!,
      shown: step.hints.slice(0, shown),
    };
  }

  private async solveCurrent(
    loaded: LoadedLab,
    step: LabStep,
    progress: (m: string) => void,
  ): Promise<CheckReport> {
    await runEntries(step.solve, this.actionContext(loaded, progress));
    progress('checking');
    const { data, active } = await this.active();
    const report = await this.checkStep(loaded, step, active, data, 'solved');
    if (!report.passed)
      throw new ApiError(
        'solve-failed',
        `after "Show me", step ${active.step} still fails: ${report.results
          .filter((r) => !r.passed)
          .map((r) => r.message)
          .join('; ')}`,
      );
    return report;
  }

  async solve(): Promise<TaskInfo> {
    const { loaded, step, active } = await this.active();
    return this.o.startTask(
      'labs:solve',
      `Show me: ${step.title}`,
      step.solve.length + 1,
      async (progress) => {
        let n = 0;
        const report = await this.solveCurrent(loaded, step, (m) =>
          progress(Math.min(++n, step.solve.length + 1), m),
        );
        return `step ${active.step} solved: ${report.results.length} checks pass`;
      },
    );
  }

  async reset(stepNumber?: number): Promise<TaskInfo> {
    const { active, loaded } = await this.active();
    const n = stepNumber ?? 1;
    const step = loaded.lab.steps[n - 1];
    if (!step)
      throw new ApiError('unknown-step', `lab ${active.lab} has ${loaded.lab.steps.length} steps, not ${n}`);
    const snapshot = n === 1 ? (active.labStart ?? active.snapshots[step.id]) : active.snapshots[step.id];
    if (!snapshot?.deployment) return this.start(active.lab, n);
    return this.o.startTask('labs:reset', `Reset to step ${n}: ${step.title}`, 2, async (progress) => {
      progress(1, 'restoring');
      const changed = await restore(
        this.o.client,
        {
          deployment: snapshot.deployment!,
          layout: snapshot.layout ?? 'flat',
          replicas: snapshot.replicas,
          versions: snapshot.versions,
          ...(snapshot.policy ? { policy: snapshot.policy } : {}),
          ...(this.o.port !== undefined ? { port: this.o.port } : {}),
        },
        (m) => progress(1, m),
      );
      progress(2, "recording the step's start");
      const fresh = await takeSnapshot(this.o.client);
      // A reset that had to create containers again makes them the lab's own: a check that
      // compares with the lab's start ("the app is the container the lab started with") is
      // passable again, since the student did not replace them.
      const labStart =
        n === 1
          ? fresh
          : changed.length && active.labStart
            ? { ...active.labStart, containers: fresh.containers }
            : undefined;
      await this.enterStep(active.lab, n, fresh, labStart);
      return `step ${n} of ${active.lab} ready${changed.length ? `: ${changed.join(', ')}` : ' (nothing had changed)'}`;
    });
  }

  async next(): Promise<LabStatus> {
    const { data, active, loaded, step } = await this.active();
    const outcome = data.labs[active.lab]?.steps[step.id]?.outcome ?? 'pending';
    // An optional step may be skipped; a core one must pass (or be solved) first.
    if (outcome === 'pending' && !step.optional)
      throw new ApiError(
        'step-not-done',
        `step ${active.step} (${step.title}) has not passed yet`,
        'Run Check, or use Show me.',
      );
    if (active.step >= loaded.lab.steps.length && outcome === 'pending') {
      // The last step, optional, skipped: the lab is done once its core steps are.
      await this.o.store.update((fresh) => {
        if (!complete(loaded.lab, fresh.labs[active.lab], active.step + 1)) return;
        const lp = labProgress(fresh, active.lab);
        lp.state = 'completed';
        lp.completedAt ??= new Date().toISOString();
      });
      return this.status();
    }
    if (active.step >= loaded.lab.steps.length)
      throw new ApiError(
        'lab-complete',
        `${loaded.lab.title}: that was the last step`,
        'See the summary: `microlab lab summary`.',
      );
    await this.enterStep(active.lab, active.step + 1, await takeSnapshot(this.o.client));
    return this.status();
  }

  async action(id: string): Promise<TaskInfo> {
    const { loaded, step } = await this.active();
    const entry = step.actions.find((a) => a.id === id);
    if (!entry)
      throw new ApiError(
        'unknown-action',
        `this step has no action "${id}"`,
        step.actions.length ? `Actions: ${step.actions.map((a) => a.id).join(', ')}.` : undefined,
      );
    const { kind } = actionOf(entry);
    const { data, active } = await this.active();
    const unpredicted = unansweredPredictions(step, stepProgress(data, active.lab, step.id));
    if (unpredicted.length && kind !== 'terminal' && kind !== 'workspace')
      throw new ApiError(
        'predict-first',
        `this step asks for your prediction before you measure: ${unpredicted.map((q) => `"${q.id}"`).join(', ')}`,
        'Answer it first (`microlab lab answer ID TEXT`); a prediction is final.',
      );
    if (kind === 'terminal')
      throw new ApiError(
        'ui-action',
        `"${describeAction(entry)}" is done in the app's terminal panel`,
        'Or use `microlab shell`.',
      );
    const { label } = entry;
    const rest = Object.fromEntries(Object.entries(entry).filter(([k]) => k !== 'id' && k !== 'label'));
    return this.o.startTask('labs:action', label, 1, async (progress) =>
      runEntries(
        [rest],
        this.actionContext(loaded, (m) => progress(1, m)),
      ),
    );
  }

  /**
   * Records an answer: to a quiz question (may change), a prediction (only before the step is
   * done, and final: `prediction-recorded`, `prediction-too-late`) or a why question (only once
   * the step is done: `explain-too-early`).
   */
  async answer(question: string, answer: string): Promise<StepProgress> {
    const { active, step } = await this.active();
    const kind = step.questions.some((q) => q.id === question)
      ? 'question'
      : step.predict.some((q) => q.id === question)
        ? 'prediction'
        : step.explain.some((q) => q.id === question)
          ? 'explanation'
          : undefined;
    if (!kind)
      throw new ApiError(
        'unknown-question',
        `step ${active.step} has no question "${question}"`,
        `Questions: ${[...step.questions, ...step.predict, ...step.explain].map((q) => q.id).join(', ') || 'none'}.`,
      );
    return this.o.store.update((data) => {
      const r = stepProgress(data, active.lab, step.id);
      if (kind === 'prediction') {
        const earlier = r.predictions?.[question];
        if (earlier)
          throw new ApiError(
            'prediction-recorded',
            `your prediction "${question}" was recorded at ${earlier.at}: "${earlier.answer}"`,
            'A prediction is final; compare it with what you measure.',
          );
        if (r.outcome !== 'pending')
          throw new ApiError(
            'prediction-too-late',
            `step ${active.step} is already done: a prediction comes before the measurement`,
          );
        (r.predictions ??= {})[question] = { answer, at: new Date().toISOString() };
      } else if (kind === 'explanation') {
        if (r.outcome === 'pending')
          throw new ApiError(
            'explain-too-early',
            `"${question}" asks why about what step ${active.step} measures`,
            'Run the step first; answer once its checks pass.',
          );
        (r.explanations ??= {})[question] = answer;
      } else r.answers[question] = answer;
      return r;
    });
  }

  async readWorkspace(lab: string, file: string): Promise<{ file: string; text: string }> {
    await this.find(lab);
    const full = path.join(this.workspaceDir(lab), file);
    try {
      return { file: full, text: await readFile(full, 'utf8') };
    } catch {
      throw new ApiError('workspace-file', `no file ${file} in the workspace of ${lab}`);
    }
  }

  async saveWorkspace(lab: string, file: string, text: string): Promise<{ file: string }> {
    await this.find(lab);
    const full = path.join(this.workspaceDir(lab), file);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, text);
    return { file: full };
  }

  async progress(): Promise<LabProgress[]> {
    return Object.values((await this.o.store.read()).labs);
  }

  async summary(id: string): Promise<LabSummary> {
    const { lab } = await this.find(id);
    const data = await this.o.store.read();
    return summarize(lab, data.labs[id], data.labs);
  }

  async table(): Promise<LabTable> {
    const [{ labs }, data] = await Promise.all([this.labs(), this.o.store.read()]);
    return table(
      labs.map((l) => l.lab),
      data,
    );
  }

  /** The progress with the student in effect (the environment's, else the stored one). */
  async export(file: string): Promise<ProgressExport> {
    const data = await this.o.store.read();
    const { student } = studentInfo(data, this.o.envStudent?.(), this.o.account);
    const { version, account, labs, active } = data;
    return exportProgress(
      {
        version,
        ...(student ? { student } : {}),
        account: account ?? this.o.account,
        labs,
        ...(active ? { active } : {}),
      },
      file,
    );
  }

  /**
   * The instructor's guide (Markdown) from the lab files that load, the track `track` of
   * tracks.yaml (absent or `all`: every lab) and the figures in figures.json (absent: none);
   * with `out`, the Markdown written there; with `html`, the printable page written there.
   * Refused (ApiError unknown-track) for an unknown track, naming the known ones; a tracks or
   * figures file that does not parse, or names a lab, step or measure the labs do not have
   * (invalid-lab-file), naming the file and the id.
   */
  async guide(input: { out?: string; html?: string; track?: string } = {}): Promise<{
    markdown: string;
    written?: string;
    html?: string;
  }> {
    const labs = (await this.labs()).labs.map((l) => l.lab);
    const optional = async (name: string) => {
      const file = path.join(this.o.guidesDir, name);
      try {
        return { file, text: await readFile(file, 'utf8') };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    };
    const tracksFile = await optional('tracks.yaml');
    const figuresFile = await optional('figures.json');
    let track: Track;
    let figures: LabFigures | undefined;
    let tracks: Track[];
    try {
      tracks = tracksFile ? parseTracks(tracksFile.text, labs, tracksFile.file) : [];
      figures = figuresFile ? parseFigures(figuresFile.text, labs, figuresFile.file) : undefined;
    } catch (err) {
      throw new ApiError('invalid-lab-file', (err as Error).message);
    }
    try {
      track = chooseTrack(tracks, labs, input.track);
    } catch (err) {
      throw new ApiError('unknown-track', (err as Error).message);
    }
    const markdown = instructorGuide(labs, {
      seeded: await this.o.seededAnswers?.(),
      ...(track.name !== 'all' ? { track } : {}),
      ...(figures ? { figures } : {}),
    });
    const result: { markdown: string; written?: string; html?: string } = { markdown };
    const write = async (file: string, text: string) => {
      const resolved = path.resolve(file);
      await mkdir(path.dirname(resolved), { recursive: true });
      await writeFile(resolved, text);
      return resolved;
    };
    if (input.out) result.written = await write(input.out, markdown);
    if (input.html) result.html = await write(input.html, guideHtml(markdown));
    return result;
  }

  async student(): Promise<StudentInfo> {
    return studentInfo(await this.o.store.read(), this.o.envStudent?.(), this.o.account);
  }

  /** Stores the student's name (and id; none given: none kept) with the progress. */
  async setStudent(student: Student): Promise<StudentInfo> {
    const data = await this.o.store.update((fresh) => {
      fresh.student = { name: student.name, ...(student.id ? { id: student.id } : {}) };
      fresh.account ??= this.o.account;
      return fresh;
    });
    return studentInfo(data, this.o.envStudent?.(), this.o.account);
  }

  /**
   * A class's report (see ClassReport) from exported progress files and, with `live`, from the
   * class this MicroLab hosts or hosted (its record's students first; a student also in a file
   * counts once, as in files); with `out`, written there as class-report.json and
   * class-report.csv. Every file is read and checked before anything is written: a bad one is
   * refused (`bad-progress-file`) and nothing is written. Throws ApiError `no-class` when `live`
   * is asked and this MicroLab hosted no class.
   */
  async classReport(files: string[], out?: string, live = false): Promise<ClassReport> {
    const [{ labs }, exports] = await Promise.all([this.labs(), readExports(files)]);
    const lablist = labs.map((l) => l.lab);
    const hosted = live ? await this.o.hostedExports?.(lablist) : [];
    if (!hosted)
      throw new ApiError(
        'no-class',
        'this MicroLab hosts no class and hosted none: there is no class record to report',
        'Run `microlab class host` first, or pass the exported files only.',
      );
    const report = classReport(lablist, [...hosted, ...exports]);
    if (out) report.written = await writeClassReport(report, out);
    return report;
  }
}
