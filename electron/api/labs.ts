/**
 * The guided labs' part of the API contract (issue 9): list, open, start, check, hint, solve,
 * reset, next, progress, summary and the 2×2 table. Spread into `methods` in contract.ts.
 *
 * A lab is a file, labs/guides/<id>/lab.yaml (its format and JSON Schema: electron/labs/format.ts
 * and labs/guides/lab.schema.json). One lab is *active* per project at a time: `labs:start`
 * makes it so, and check, hint, solve, reset and next act on its current step.
 *
 * Long work (bringing the deployment and policy to a step's start, a solve that runs a load)
 * is a task: those methods return a TaskInfo at once and report through `tasks:update`; the
 * task's `result` is one line. Checks are quick (≤ a few seconds) and answer directly.
 *
 * Errors (ApiError codes): `unknown-lab`, `lab-invalid` (the file has problems; message lists
 * them), `no-active-lab`, `unknown-step`, `unknown-action`, `step-not-done` (`labs:next` before
 * the step's checks passed or it was solved), `workspace-file` (bad workspace file name).
 */
import { z } from 'zod';
import type { Mode } from '../firewall/vocabulary';
import type { DeploymentName, Layout } from '../topology/types';
import type { FoundField, LabApp, LabAttacker, LabCheckKind, LabNetwork, LabView } from './vocabulary';

// ---------------------------------------------------------------------------------------
// Shapes

/** Where a lab sits on the map: the application's architecture × the network's. */
export interface LabQuadrant {
  app: LabApp;
  network: LabNetwork;
}

/** A lab file that does not load: each problem at its file:line:column. */
export interface LabLoadError {
  /** The lab's folder name under labs/guides (its id when it loads). */
  id: string;
  /** Path of the lab file. */
  file: string;
  issues: LabIssue[];
}

export interface LabIssue {
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  /** Dotted path in the file, e.g. "steps.2.checks.0.kind"; "" for the whole file. */
  path: string;
  message: string;
}

export type LabState = 'not-started' | 'in-progress' | 'completed';

/** One lab on the map. */
export interface LabInfo {
  id: string;
  title: string;
  /** One or two sentences: what the student shows. */
  summary: string;
  /** Estimated time, minutes: of every step, and of the core steps (those not marked optional). */
  minutes: number;
  coreMinutes: number;
  quadrant: LabQuadrant;
  /** Place on the map (1 = first). */
  order: number;
  /** How many steps. */
  steps: number;
  state: LabState;
  /** Steps whose checks passed (by the student) / solved with "Show me". */
  stepsPassed: number;
  stepsSolved: number;
}

export interface LabList {
  labs: LabInfo[];
  /** Lab files that did not load; the others still do. */
  errors: LabLoadError[];
}

/**
 * What a step's button does. `terminal` opens a terminal in a workload (or its firewall
 * sidecar) and, with `command`, types it there: the UI's to carry out (`labs:action` refuses
 * it with code `ui-action`); the others run through `labs:action` as a task.
 */
export type LabAction =
  | {
      kind: 'apply-policy';
      /** a shipped policy (labs/policies), the lab's folder, or "workspace:NAME" */ policy: string;
      mode?: Mode;
      /** keep the connections the previous policy let open (by default those denied are cut) */
      keepEstablished?: boolean;
    }
  | { kind: 'clear-policy' }
  | { kind: 'up'; deployment: DeploymentName; layout?: Layout }
  | { kind: 'scale'; service: string; replicas: number }
  | { kind: 'upgrade'; service: string; version: number }
  | {
      kind: 'load';
      /** scenarios/s */ rate: number;
      /** seconds */ duration: number;
      mix?: Record<string, number>;
      /** run it while the next action runs (e.g. an upgrade under load) */ background?: boolean;
    }
  | {
      kind: 'exec';
      workload: string;
      /** in the workload's firewall (its pod's holder; behind the perimeter, the router) */
      firewall?: boolean;
      command: string[];
    }
  | { kind: 'terminal'; workload: string; firewall?: boolean; command?: string }
  | {
      kind: 'workspace';
      /** copies a file of the lab's folder into the workspace (a skeleton to complete) */ file: string;
      as?: string;
    }
  | {
      kind: 'answer';
      question: string;
      /** The answer, or `found`: a value read off the system where a workload stands. */
      answer?: string;
      found?: { workload: string; field: FoundField };
      output?: { workload: string; command: string[] };
    };

export interface LabActionInfo {
  /** Unique within the step. */
  id: string;
  /** The button's text. */
  label: string;
  action: LabAction;
}

/** A check as the guide shows it before it runs. */
export interface LabCheckInfo {
  id: string;
  kind: LabCheckKind;
  /** What it verifies, one line. */
  description: string;
}

/** A question whose answer a `quiz` check reads (the UI shows an input for it). */
export interface LabQuestion {
  id: string;
  /** Markdown. */
  text: string;
  /** Offered answers; absent: free text. */
  choices?: string[];
}

export interface LabStepInfo {
  /** 1-based. */
  index: number;
  id: string;
  title: string;
  /** Markdown: why, what to do, what to observe. */
  text: string;
  actions: LabActionInfo[];
  checks: LabCheckInfo[];
  questions: LabQuestion[];
  /** How many hints there are (revealed one by one with `labs:hint`). */
  hints: number;
  /** What the step records for the summary. */
  measures: { id: string; label: string; unit: string }[];
  /** The live views the step needs beside the guide. */
  views: LabView[];
  /** A step a short workshop may skip. */
  optional: boolean;
  /**
   * Predictions asked before the step's measurement: its checks do not pass (`predict` result)
   * until each is answered with `labs:answer`, and an answer is final (`prediction-recorded`).
   */
  predict: LabQuestion[];
  /** Why questions, answered with `labs:answer` once the step passed (`explain-too-early` before). */
  explain: LabQuestion[];
}

/** A claim of the lab, and the relation its measurements must show to support it. */
export interface LabClaim {
  text: string;
  /** The article's sentence it tests (Lori MacVittie, "Microservices versus Microsegmentation"). */
  article?: string;
  /** Ids of measures (any step) shown next to it. */
  measures: string[];
  /** Relations over measure ids and numbers, e.g. "blast-after < blast-before" (electron/labs/relation.ts). */
  holds: string[];
  /** The student's prediction shown beside the verdict: a step's `predict` question. */
  prediction?: { step: string; id: string };
}

/** A whole lab, to open it. */
export interface LabDetail extends Omit<LabInfo, 'steps'> {
  /** Markdown shown before step 1, and after the last (with the summary). */
  intro: string;
  finish: string;
  setup: { deployment: DeploymentName; layout: Layout; policy?: string };
  steps: LabStepInfo[];
  claims: LabClaim[];
  /** The lab's workspace folder (policies the student writes), and its files. */
  workspace: { dir: string; files: string[] };
}

export type StepOutcome = 'pending' | 'passed' | 'solved';

/** One recorded number. */
export interface Measurement {
  id: string;
  label: string;
  unit: string;
  value: number;
  /** Where it came from, one line: "blast:radius jumpbox, observed". */
  source: string;
  at: string;
  /**
   * For the 2×2: which attacker it measured, what (`workloads`, `databases` or `domains`
   * reached), and the shape that ran when it was read (absent for other measures).
   */
  attacker?: LabAttacker;
  metric?: 'workloads' | 'databases' | 'domains';
  app?: LabApp;
  /** The network column, when the measure names one other than its lab's. */
  network?: LabNetwork;
}

export interface StepProgress {
  outcome: StepOutcome;
  /** `labs:check` runs on this step. */
  attempts: number;
  hintsShown: number;
  /** First time the step became current, and when it passed or was solved (ISO). */
  startedAt?: string;
  doneAt?: string;
  /** Seconds from start to done, while the lab was open. */
  seconds?: number;
  measurements: Measurement[];
  answers: Record<string, string>;
  /** Predictions by id, with when they were recorded (before the step's measurement; final). */
  predictions?: Record<string, { answer: string; at: string }>;
  /** Answers to the step's why questions, by id. */
  explanations?: Record<string, string>;
  /**
   * The failed `labs:check` runs, oldest first, the latest MAX_FAILURES kept (labs/progress.ts):
   * each attempt's first failing check and how it failed. Files from before it have none.
   */
  failures?: CheckFailure[];
}

/** How a check run failed: its first failing check (id and description) and that check's message. */
export interface CheckFailure {
  /** The attempt's number on the step (1-based, as `attempts` counts). */
  attempt: number;
  /** The check's id (its own, or `kind-N`), at most 100 characters. */
  check: string;
  /** What it checks, at most 200 characters. */
  description: string;
  /** Why it failed, at most 200 characters. */
  message: string;
}

export interface LabProgress {
  lab: string;
  state: LabState;
  startedAt?: string;
  completedAt?: string;
  /** By step id. */
  steps: Record<string, StepProgress>;
}

/** The active lab and where the student is. Absent `lab`: no lab active. */
export interface LabStatus {
  lab?: string;
  title?: string;
  /** 1-based current step, and how many steps. */
  step?: number;
  steps?: number;
  stepId?: string;
  /** The current step's progress. */
  current?: StepProgress;
  progress?: LabProgress;
}

export interface CheckResult {
  id: string;
  kind: LabCheckKind;
  description: string;
  passed: boolean;
  /**
   * Why, naming the fact: "catalog -> payments-db:5432 connected; the step expects it blocked",
   * or, when the state could not be read, "cannot read the flow log: the engine is not
   * reachable" (never a pass by default).
   */
  message: string;
  /** How long the check took, ms. */
  durationMs: number;
}

export interface CheckReport {
  lab: string;
  step: number;
  stepId: string;
  passed: boolean;
  results: CheckResult[];
  /** Measurements recorded by this run (when it passed). */
  measurements: Measurement[];
  /** Measures that could not be read, each with the reason. */
  notRecorded: string[];
  /** The step's outcome after this run. */
  outcome: StepOutcome;
  /** How many steps the lab has (`step === steps`: this was the last one). */
  steps: number;
}

export interface HintReply {
  lab: string;
  step: number;
  /** 1-based: which hint this is, of how many. */
  index: number;
  of: number;
  /** Markdown. */
  text: string;
  /** Every hint shown so far, in order. */
  shown: string[];
}

/** One relation of a claim judged on the student's numbers. */
export interface ClaimRelation {
  text: string;
  /** null: a measure it names is not recorded yet. */
  holds: boolean | null;
  left?: number;
  right?: number;
}

/**
 * A claim with the student's own numbers and its verdict: `supported` (every relation holds),
 * `not-supported` (one was measured and fails), `not-measured` (a measure is missing).
 */
export interface SummaryClaim {
  text: string;
  article?: string;
  measurements: Measurement[];
  relations: ClaimRelation[];
  verdict: 'supported' | 'not-supported' | 'not-measured';
  /** The student's prediction for it, when the claim names one (absent answer: none recorded). */
  prediction?: { text: string; answer?: string };
}

export interface LabSummary {
  lab: string;
  title: string;
  quadrant: LabQuadrant;
  state: LabState;
  finish: string;
  claims: SummaryClaim[];
  steps: {
    id: string;
    title: string;
    outcome: StepOutcome;
    attempts: number;
    hintsShown: number;
    seconds?: number;
  }[];
}

/** One attacker's figures in one cell, from the student's own runs. */
export interface AttackerFigures {
  /** What it reached: other workloads, databases, and data domains (schemas it can log in to). */
  workloads: number | null;
  databases: number | null;
  domains: number | null;
  /** Where the figures came from: the lab and step that recorded the latest of them. */
  lab: string;
  step: string;
}

/**
 * The 2×2 table (and the perimeter beyond it), filled from the student's labs: per cell, the
 * labs that sit there with their claims, and both attackers' figures measured in that cell
 * (null: not measured yet). A figure sits in the cell of the shape that actually ran when it
 * was read and the network of its lab.
 */
export interface LabTable {
  cells: {
    app: LabApp;
    network: LabNetwork;
    labs: { id: string; title: string; state: LabState; claims: SummaryClaim[] }[];
    attackers: Record<LabAttacker, AttackerFigures | null>;
  }[];
}

/** `labs:export` wrote these files. */
export interface ProgressExport {
  json: string;
  csv: string;
}

/**
 * Who the student is: a person's name (and an optional id, e.g. a student number), set by the
 * student (`microlab student set`, the app's first screen, or MICROLAB_STUDENT), never taken
 * from the operating system's account (classroom machines often all log in as `student`).
 */
export interface Student {
  /** 1-100 characters, no control characters. */
  name: string;
  /** 1-64 characters, no control characters. */
  id?: string;
}

/** `student:get`: who this MicroLab's progress belongs to. */
export interface StudentInfo {
  /** Absent: no name set yet (exports then carry none, and a class report names the file). */
  student?: Student;
  /** Where the name in effect comes from: MICROLAB_STUDENT (overrides the stored one), the progress file, or nowhere. */
  source: 'env' | 'stored' | 'none';
  /** The operating system's user name, kept in exports for the record only. */
  account: string;
}

/** One row per student × lab × step: what an instructor grades from. */
export interface ClassRow {
  /** The student's name (an export without one: the file's name). */
  student: string;
  studentId?: string;
  lab: string;
  step: string;
  outcome: StepOutcome;
  attempts: number;
  hintsShown: number;
  seconds?: number;
  measurements: Record<string, number>;
}

/** Median and range of numbers across the class (null when no student has one). */
export interface Spread {
  /** How many students' numbers it is made of. */
  n: number;
  median: number | null;
  min: number | null;
  max: number | null;
}

/**
 * `class report`: a class's numbers from exported progress files, one file per student (a
 * student found in several files counts once: the latest export).
 */
export interface ClassReport {
  /** The students, in the order of the files. */
  students: { name: string; id?: string; file: string; exportedAt?: string; named: boolean }[];
  /** What the instructor should know about the files (a later export replaced an earlier one, an unknown lab left out). */
  notes: string[];
  labs: ClassLabReport[];
  /** The 2×2 (and the perimeter): per cell, each attacker's figures as the class's medians. */
  table: {
    app: LabApp;
    network: LabNetwork;
    labs: string[];
    attackers: Record<LabAttacker, { workloads: Spread; databases: Spread; domains: Spread } | null>;
  }[];
  /** The CSV: one row per student, one column per measurement (LAB.MEASURE). */
  csv: string;
  /** The files written with `out`. */
  written?: { json: string; csv: string };
}

export interface ClassLabReport {
  lab: string;
  title: string;
  quadrant: LabQuadrant;
  /** Students with any progress on the lab, and those who completed it. */
  started: number;
  completed: number;
  steps: {
    id: string;
    title: string;
    optional: boolean;
    /** Students who passed it by themselves, with "Show me", and both. */
    passed: number;
    solved: number;
    done: number;
    /** Median seconds from start to done over the students who did it (null: nobody yet). */
    medianSeconds: number | null;
    /** Hints shown, summed over the class, and how many students asked for one. */
    hints: number;
    studentsWithHints: number;
  }[];
  /**
   * Every measure of the lab: its spread across the class, and each student's latest value
   * (`values`: one per student who measured it, in the students' order; `student` their name,
   * `id` their id when set, `value` in `unit`): the dots of the dashboard's strip plot.
   */
  measures: {
    id: string;
    label: string;
    unit: string;
    spread: Spread;
    values: { student: string; id?: string; value: number }[];
  }[];
  /** Every claim: how many students' own numbers supported it, contradicted it, or did not measure it. */
  claims: {
    text: string;
    article?: string;
    holds: string[];
    /** The ids of this lab's measures the claim rests on (its `measures` and those its relations name). */
    measures: string[];
    supported: number;
    notSupported: number;
    notMeasured: number;
  }[];
}

// ---------------------------------------------------------------------------------------
// Methods

const LabId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a lab id like monolith-flat');
const StepNumber = z.number().int().min(1).max(100);
const FilePath = z.string().trim().min(1, 'a file path is required').max(4096);
const WorkspaceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\.ya?ml$/, 'a file name like my-policy.yaml (no folders)');
export const LabsGet = z.object({ lab: LabId }).strict();
export const LabsStart = z.object({ lab: LabId, step: StepNumber.optional() }).strict();
export const LabsReset = z.object({ step: StepNumber.optional() }).strict();
export const LabsAction = z.object({ action: z.string().min(1).max(63) }).strict();
export const LabsAnswer = z
  .object({ question: z.string().min(1).max(63), answer: z.string().trim().min(1).max(500) })
  .strict();
export const LabsSave = z
  .object({ lab: LabId, file: WorkspaceName, text: z.string().max(256 * 1024) })
  .strict();
export const LabsRead = z.object({ lab: LabId, file: WorkspaceName }).strict();
export const LabsExport = z.object({ file: FilePath }).strict();
export const ClassSummary = z.object({ files: z.array(FilePath).min(1).max(1000) }).strict();
export const ClassReportInput = z
  .object({
    files: z.array(FilePath).max(1000).default([]),
    /** A folder to write class-report.json and class-report.csv into (created when missing). */
    out: FilePath.optional(),
    /** Also the class this MicroLab hosts or hosted, from the host's record (`class report --class`). */
    live: z.boolean().optional(),
  })
  .strict()
  .refine((i) => i.files.length > 0 || i.live === true, {
    message: 'name at least one exported file, or ask for the hosted class (live)',
    path: ['files'],
  });
/** No control characters (C0, DEL): a name goes into tables, files and terminals. */
const noControl = (s: string) => ![...s].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127);
export const StudentName = z
  .string()
  .trim()
  .min(1, 'a student name is required')
  .max(100, 'a student name has at most 100 characters')
  .refine(noControl, 'a student name has no control characters');
export const StudentId = z
  .string()
  .trim()
  .min(1, 'a student id is not empty')
  .max(64, 'a student id has at most 64 characters')
  .refine(noControl, 'a student id has no control characters');
export const ClassGuide = z
  .object({
    out: FilePath.optional(),
    /** Write the printable HTML page there too. */
    html: FilePath.optional(),
    /** A track of labs/guides/tracks.yaml (`all`: every lab, the default). */
    track: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, 'a track name is lowercase letters, digits and dashes')
      .optional(),
  })
  .strict();
export const StudentSet = z.object({ name: StudentName, id: StudentId.optional() }).strict();
