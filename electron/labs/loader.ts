/**
 * Loads the labs: every labs/guides/<id>/lab.yaml, parsed with positions and validated by the
 * lab schema (format.ts) and by what a schema cannot say (references to steps, questions,
 * measures, workloads and policies). A broken file becomes a LabLoadError with each problem
 * at file:line:column; the other labs still load.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabIssue, LabLoadError } from '../api/labs';
import { measuresOf, parseRelation } from './relation';
import { actionOf, LabSchema } from './format';
import type { Lab } from './format';
import type { PathIssue } from '../yaml-file';
import { readYaml } from '../yaml-file';
import type { DeploymentName } from '../api/vocabulary';

/** Larger lab files are refused before parsing. */
export const MAX_LAB_BYTES = 256 * 1024;

/** What a lab may refer to: the workloads of each deployment and the shipped policies. */
export interface LabReferences {
  workloads: Record<DeploymentName, string[]>;
  /** File names in labs/policies. */
  policies: string[];
}

/** A lab that loaded, and where its files are. */
export interface LoadedLab {
  lab: Lab;
  dir: string;
  file: string;
}

export interface LoadedLabs {
  labs: LoadedLab[];
  errors: LabLoadError[];
}

/** Checks what the schema cannot: unique ids, references to questions, measures, workloads, policies. */
function semanticIssues(lab: Lab, dir: string, folder: string, refs: LabReferences | undefined): PathIssue[] {
  const issues: PathIssue[] = [];
  if (lab.id !== folder)
    issues.push({ path: ['id'], message: `the lab id "${lab.id}" differs from its folder name "${folder}"` });
  const stepIds = new Set<string>();
  const measureIds = new Set<string>();
  const predictions = new Map<string, Set<string>>();
  // The deployment a step runs on: the setup's, until a step's solve starts another with `up`.
  // A step's actions and solve may name the workloads of either side of its `up`; its checks
  // name those of the deployment it ends on.
  let deployment = lab.setup.deployment;
  let workloads = refs ? new Set(refs.workloads[deployment]) : undefined;
  let where: string = deployment;
  const workspace = new Set<string>();
  const checkPolicy = (p: (string | number)[], policy: string) => {
    if (policy === 'none' || !refs) return;
    if (policy.startsWith('workspace:')) {
      if (!workspace.has(policy.slice('workspace:'.length)))
        issues.push({ path: p, message: `no earlier step puts "${policy.slice(10)}" into the workspace` });
      return;
    }
    if (!refs.policies.includes(policy) && !existsSync(path.join(dir, path.basename(policy))))
      issues.push({ path: p, message: `no policy "${policy}" in labs/policies or in the lab's folder` });
  };
  const checkWorkload = (p: (string | number)[], name: unknown) => {
    if (typeof name === 'string' && workloads && !workloads.has(name))
      issues.push({
        path: p,
        message: `no workload "${name}" in the ${where} (it has ${[...workloads].join(', ')})`,
      });
  };
  checkPolicy(['setup', 'policy'], lab.setup.policy);

  lab.steps.forEach((step, s) => {
    if (stepIds.has(step.id))
      issues.push({ path: ['steps', s, 'id'], message: `step id "${step.id}" is used twice` });
    stepIds.add(step.id);
    const questions = new Set(step.questions.map((q) => q.id));
    const asked = new Set<string>(questions);
    for (const key of ['predict', 'explain'] as const)
      step[key].forEach((q, i) => {
        if (asked.has(q.id))
          issues.push({
            path: ['steps', s, key, i, 'id'],
            message: `question id "${q.id}" is used twice in this step`,
          });
        asked.add(q.id);
      });
    predictions.set(step.id, new Set(step.predict.map((q) => q.id)));
    const ups = step.solve.map((e) => actionOf(e)).filter((a) => a.kind === 'up');
    const after = (ups.at(-1)?.spec.deployment as Lab['setup']['deployment'] | undefined) ?? deployment;
    const before = deployment;
    if (refs) workloads = new Set([...refs.workloads[before], ...refs.workloads[after]]);
    where = before === after ? before : `${before} or the ${after}`;
    deployment = after;
    const entries: [string, Record<string, unknown>][] = [
      ...step.actions.map((a, i) => [`actions.${i}`, a] as [string, Record<string, unknown>]),
      ...step.solve.map((a, i) => [`solve.${i}`, a] as [string, Record<string, unknown>]),
    ];
    const actionIds = new Set<string>();
    step.actions.forEach((a, i) => {
      if (actionIds.has(a.id))
        issues.push({ path: ['steps', s, 'actions', i, 'id'], message: `action id "${a.id}" is used twice` });
      actionIds.add(a.id);
    });
    for (const [where, entry] of entries) {
      const at = ['steps', s, ...where.split('.').map((x) => (/^\d+$/.test(x) ? Number(x) : x))];
      const { kind, spec } = actionOf(entry);
      if (kind === 'workspace') workspace.add((spec.as as string | undefined) ?? (spec.file as string));
      if (
        kind === 'workspace' &&
        !existsSync(path.join(dir, spec.file as string)) &&
        !refs?.policies.includes(spec.file as string)
      )
        issues.push({
          path: [...at, kind, 'file'],
          message: `no file "${String(spec.file)}" in the lab's folder or in labs/policies`,
        });
      if (kind === 'apply-policy') checkPolicy([...at, kind, 'policy'], spec.policy as string);
      if (kind === 'answer' && !questions.has(spec.question as string))
        issues.push({
          path: [...at, kind, 'question'],
          message: `no question "${String(spec.question)}" in this step`,
        });
      for (const key of ['workload', 'service'] as const)
        if (key in spec && !(kind === 'up')) checkWorkload([...at, kind, key], spec[key]);
    }
    if (refs) workloads = new Set(refs.workloads[after]);
    where = after;
    const checkIds = new Set<string>();
    step.checks.forEach((check, c) => {
      const at = ['steps', s, 'checks', c];
      if (check.id) {
        if (checkIds.has(check.id))
          issues.push({ path: [...at, 'id'], message: `check id "${check.id}" is used twice` });
        checkIds.add(check.id);
      }
      if (
        check.kind === 'quiz' &&
        !check.accept.length &&
        !check.acceptFound &&
        !check.acceptOutput &&
        !check.acceptExport
      )
        issues.push({
          path: at,
          message: 'a quiz accepts something: give accept, acceptFound, acceptOutput or acceptExport',
        });
      if (check.kind === 'quiz' && check.acceptExport) {
        checkPolicy([...at, 'acceptExport', 'policy'], check.acceptExport.policy);
        checkWorkload([...at, 'acceptExport', 'ingressOf'], check.acceptExport.ingressOf);
      }
      if (check.kind === 'quiz' && !questions.has(check.question))
        issues.push({ path: [...at, 'question'], message: `no question "${check.question}" in this step` });
      if (check.kind === 'policy' && check.policy) checkPolicy([...at, 'policy'], check.policy);
      if (check.kind === 'policy-file') checkPolicy([...at, 'matches'], check.matches);
      for (const key of ['workload', 'src', 'dst'] as const)
        if (key in check) checkWorkload([...at, key], (check as Record<string, unknown>)[key]);
      for (const key of ['workloads', 'except', 'includes', 'excludes'] as const) {
        const list = (check as Record<string, unknown>)[key];
        if (Array.isArray(list)) list.forEach((w, i) => checkWorkload([...at, key, i], w));
        else if (list && typeof list === 'object' && check.kind === 'policy')
          Object.keys(list).forEach((w) => checkWorkload([...at, key, w], w));
      }
    });
    step.measure.forEach((m, i) => {
      if (measureIds.has(m.id))
        issues.push({
          path: ['steps', s, 'measure', i, 'id'],
          message: `measure id "${m.id}" is used twice`,
        });
      measureIds.add(m.id);
    });
  });
  lab.claims.forEach((claim, c) => {
    claim.measures.forEach((m, i) => {
      if (!measureIds.has(m))
        issues.push({ path: ['claims', c, 'measures', i], message: `no step measures "${m}"` });
    });
    claim.holds.forEach((text, i) => {
      for (const m of measuresOf(parseRelation(text)))
        if (!m.includes('.') && !measureIds.has(m))
          issues.push({ path: ['claims', c, 'holds', i], message: `no step measures "${m}" (in "${text}")` });
    });
    if (claim.prediction && !predictions.get(claim.prediction.step)?.has(claim.prediction.id))
      issues.push({
        path: ['claims', c, 'prediction'],
        message: `no step "${claim.prediction.step}" asks for a prediction "${claim.prediction.id}"`,
      });
  });
  return issues;
}

/** Thrown by parseLab: every problem with its position. */
export class LabFileError extends Error {
  constructor(readonly issues: LabIssue[]) {
    super(issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'));
    this.name = 'LabFileError';
  }
}

/**
 * Parses and validates one lab file's text. `dir` is the lab's folder (for files it names),
 * `refs` what it may refer to (omit to skip reference checks). Throws a LabFileError listing
 * every problem at file:line:column.
 */
export function parseLab(text: string, file: string, dir: string, refs?: LabReferences): Lab {
  const read = readYaml(text, file, {
    schema: LabSchema,
    maxBytes: MAX_LAB_BYTES,
    noun: 'a lab',
    empty: 'the lab file is empty',
    check: (lab) => semanticIssues(lab, dir, path.basename(dir), refs),
  });
  if (!read.ok) throw new LabFileError(read.issues);
  return read.value;
}

/** Loads every labs/guides/<id>/lab.yaml under `guidesDir`, sorted by `order`. */
export async function loadLabs(guidesDir: string, refs?: LabReferences): Promise<LoadedLabs> {
  let folders: string[];
  try {
    folders = (await readdir(guidesDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { labs: [], errors: [] };
    throw err;
  }
  const labs: LoadedLab[] = [];
  const errors: LabLoadError[] = [];
  for (const folder of folders) {
    const dir = path.join(guidesDir, folder);
    const file = path.join(dir, 'lab.yaml');
    if (!existsSync(file)) continue;
    try {
      labs.push({ lab: parseLab(await readFile(file, 'utf8'), file, dir, refs), dir, file });
    } catch (err) {
      if (!(err instanceof LabFileError)) throw err;
      errors.push({ id: folder, file, issues: err.issues });
    }
  }
  labs.sort((a, b) => a.lab.order - b.lab.order || a.lab.id.localeCompare(b.lab.id));
  return { labs, errors };
}
