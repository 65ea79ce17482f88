/**
 * The lab format: labs/guides/<id>/lab.yaml, validated by the zod schema below (published as
 * labs/guides/lab.schema.json, kept equal by a test). Pure: no Node APIs beyond types, no I/O.
 *
 *   id: monolith-flat
 *   title: Monolith, flat network
 *   summary: Lateral movement is free …
 *   minutes: 20
 *   quadrant: { app: monolith, network: flat }
 *   setup: { deployment: monolith, layout: flat, policy: flat-observed.yaml }
 *   intro: |  Markdown
 *   steps:
 *     - id: find-the-keys
 *       title: …
 *       text: |  Markdown: why, what to do, what to observe
 *       views: [terminal]
 *       actions: [{ id: shell, label: Open a terminal in the jumpbox, terminal: { workload: jumpbox } }]
 *       questions: [{ id: password, text: … }]
 *       checks: [{ kind: quiz, question: password, accept: [shop] }]
 *       hints: [ "first, short", "more precise", "almost the answer" ]
 *       solve: [{ answer: { question: password, answer: shop } }]
 *       measure: [{ id: blast-flat, label: …, unit: workloads, from: { blast-radius: { attacker: jumpbox } } }]
 *       predict: [{ id: guess, text: How many workloads will the jumpbox reach? }]   (before checks pass)
 *       explain: [{ id: why, text: Why did the database stay reachable? }]          (after they pass)
 *   claims:
 *     - text: …
 *       article: "the article's sentence it tests"
 *       measures: [blast-flat, blast-segmented]
 *       holds: ["blast-segmented < blast-flat"]    (relation.ts: supported / not supported / not measured)
 *   finish: |  Markdown
 *
 * An action is written `{ id, label, <kind>: {...} }` (one kind key); so is a solve entry,
 * without id and label. A check is `{ kind: …, ...its fields }`.
 */
import { z } from 'zod';
import { LAB_APPS, LAB_NETWORKS, LAB_VIEWS } from '../api/vocabulary';
import { CheckSchema } from './checks';
import {
  deployment,
  found,
  id,
  layout,
  markdown,
  mix,
  mode,
  NAME,
  output,
  policyRef,
  workload,
} from './fields';
import { MeasureSchema } from './measures';
import type { LabMeasure } from './measures';
import { parseRelation } from './relation';

export { CheckSchema };
export type { LabCheck } from './checks';

// ---------------------------------------------------------------------------------------
// Actions: what a button (or a solve) does

export const ActionKinds = {
  'apply-policy': z.strictObject({
    policy: policyRef,
    mode: mode.optional(),
    keepEstablished: z.boolean().optional().meta({
      description:
        'keep the connections opened under the previous policy (`policy apply --keep-established`); by default those the new policy denies are cut',
    }),
  }),
  'clear-policy': z.strictObject({}),
  up: z.strictObject({ deployment, layout: layout.optional() }),
  scale: z.strictObject({
    service: workload,
    replicas: z.int().min(1).max(10),
    cpus: z
      .number()
      .min(0.05)
      .max(4)
      .optional()
      .meta({ description: 'CPU limit of every replica, in cores (0.25: a quarter of one)' }),
  }),
  upgrade: z.strictObject({
    service: workload,
    version: z.int().min(1).max(4).meta({
      description:
        '2: ratings; 3 and 4 are broken on purpose (3: checkout fails with a 500; 4: the process hangs 2 s after it is ready). A roll that fails is halted and rolled back: the action reports it and does not fail',
    }),
  }),
  load: z.strictObject({
    rate: z
      .number()
      .positive()
      .max(500)
      .meta({ description: 'scenarios started per second (with capacity: the first rate offered)' }),
    duration: z
      .number()
      .min(1)
      .max(300)
      .meta({ description: 'seconds (with capacity: the most the search may take)' }),
    mix: mix.optional(),
    capacity: z
      .strictObject({
        p95Ms: z.number().positive().max(60_000).optional(),
        maxErrorRate: z.number().min(0).max(1).optional(),
        stepSeconds: z.number().min(1).max(30).optional(),
        factor: z.number().min(1.05).max(4).optional(),
      })
      .optional()
      .meta({
        description:
          'search for the capacity: the rate raised step by step until p95 or the failed share crosses its bound (defaults: 500 ms, 0.01)',
      }),
    background: z.boolean().optional().meta({
      description:
        'keep running while the next entries of the same solve run; they start once its clock runs (an upgrade or a policy change under load)',
    }),
  }),
  exec: z.strictObject({
    workload,
    firewall: z.boolean().optional().meta({
      description:
        "run it in the workload's firewall instead (its pod's holder, root with NET_ADMIN; behind the perimeter, the router): a fault injected into an enforcement point",
    }),
    command: z.array(z.string().max(2000)).min(1).max(50),
  }),
  terminal: z.strictObject({
    workload,
    firewall: z.boolean().optional(),
    command: z.string().max(2000).optional(),
  }),
  workspace: z.strictObject({
    file: z
      .string()
      .regex(NAME)
      .meta({ description: "a file of the lab's folder, copied into the workspace" }),
    as: z.string().regex(NAME).optional(),
  }),
  answer: z
    .strictObject({
      question: id('question id'),
      answer: z.string().min(1).max(500).optional(),
      found: z
        .lazy(() => found)
        .optional()
        .meta({
          description: "answer with a value read off the system where a workload stands (this student's own)",
        }),
      output: z
        .lazy(() => output)
        .optional()
        .meta({
          description: 'answer with what a command prints in a workload now',
        }),
    })
    .refine(
      (v) => [v.answer, v.found, v.output].filter((x) => x !== undefined).length === 1,
      'give one of answer, found or output',
    ),
} as const;
export type ActionKind = keyof typeof ActionKinds;
export const ACTION_KINDS = Object.keys(ActionKinds) as ActionKind[];

/** One kind key and its fields, e.g. `{ scale: { service: catalog, replicas: 3 } }`. */
const oneAction = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const kinds = Object.keys(value).filter((k) => k in ActionKinds);
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: `an action has exactly one of ${ACTION_KINDS.join(', ')}${kinds.length ? ` (found ${kinds.join(', ')})` : ''}`,
    });
    return;
  }
  const kind = kinds[0] as ActionKind;
  const result = ActionKinds[kind].safeParse(value[kind]);
  if (!result.success)
    for (const issue of result.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: [kind, ...issue.path] });
});

const actionMeta = {
  id: id('action id'),
  label: z.string().min(1).max(120),
};

const ActionSchema = z
  .looseObject(actionMeta)
  .superRefine((value, ctx) => {
    const rest = Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'id' && k !== 'label'));
    const result = oneAction.safeParse(rest);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue, code: 'custom' });
  })
  .meta({ description: '{ id, label, <kind>: {...} }, kind one of ' + ACTION_KINDS.join(', ') });

// ---------------------------------------------------------------------------------------
// Measures: numbers recorded into progress when a step passes

// ---------------------------------------------------------------------------------------
// The lab

const StepSchema = z.strictObject({
  id: id('step id'),
  title: z.string().min(1).max(200),
  text: markdown,
  views: z.array(z.enum(LAB_VIEWS)).default([]),
  actions: z.array(ActionSchema).max(20).default([]),
  questions: z
    .array(
      z.strictObject({
        id: id('question id'),
        text: markdown,
        choices: z.array(z.string().min(1).max(200)).min(2).optional(),
      }),
    )
    .default([]),
  checks: z.array(CheckSchema).min(1, 'a step needs at least one check').max(30),
  hints: z.array(markdown).max(10).default([]),
  solve: z.array(oneAction).min(1, 'a step needs a solve (what "Show me" does)').max(30),
  measure: z.array(MeasureSchema).max(20).default([]),
  predict: z
    .array(
      z.strictObject({
        id: id('prediction id'),
        text: markdown,
        choices: z.array(z.string().min(1).max(200)).min(2).optional(),
      }),
    )
    .max(5)
    .default([])
    .meta({
      description:
        "asked before the step's measurement: the step's checks do not pass until each is answered, and an answer is final",
    }),
  optional: z.boolean().default(false).meta({
    description: 'a step a short workshop may skip (the lab still completes without it only when solved)',
  }),
  explain: z
    .array(z.strictObject({ id: id('question id'), text: markdown }))
    .max(5)
    .default([])
    .meta({ description: "a why question, answered in the student's words once the step passed" }),
});

const relation = z
  .string()
  .min(3)
  .max(200)
  .superRefine((text, ctx) => {
    try {
      parseRelation(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  })
  .meta({
    description:
      'LEFT OP RIGHT over measure ids and numbers, OP one of < <= > >= == != (e.g. "blast-after < blast-before", "errors == 0", "ms-gain > 2 * mono-gain")',
  });

export const LabSchema = z
  .strictObject({
    $schema: z.string().max(500).optional(),
    id: id('lab id'),
    title: z.string().min(1).max(200),
    summary: z.string().min(1).max(1000),
    minutes: z.int().min(1).max(600),
    coreMinutes: z
      .int()
      .min(1)
      .max(600)
      .optional()
      .meta({ description: 'minutes of the steps not marked optional (default: minutes)' }),
    order: z.int().min(1).max(100),
    quadrant: z.strictObject({ app: z.enum(LAB_APPS), network: z.enum(LAB_NETWORKS) }),
    setup: z.strictObject({
      deployment,
      layout: layout.default('flat'),
      policy: z.union([policyRef, z.literal('none')]).default('none'),
    }),
    intro: markdown.default(''),
    steps: z.array(StepSchema).min(1, 'a lab needs at least one step').max(30),
    claims: z
      .array(
        z.strictObject({
          text: z.string().min(1).max(1000),
          article: z.string().min(1).max(600).optional().meta({
            description:
              'the sentence of the article (Lori MacVittie, "Microservices versus Microsegmentation") the claim tests, quoted',
          }),
          measures: z.array(id('measure id')).default([]),
          holds: z
            .array(relation)
            .min(1, 'a claim states the relation its numbers must show (holds: ["a < b"])')
            .max(10),
          prediction: z
            .strictObject({ step: id('step id'), id: id('prediction id') })
            .optional()
            .meta({ description: "the student's prediction shown beside the claim's verdict" }),
        }),
      )
      .default([]),
    finish: markdown.default(''),
  })
  .meta({ title: 'MicroLab guided lab' });

export type Lab = z.output<typeof LabSchema>;
export type LabStep = Lab['steps'][number];
export type { LabMeasure };
/** An action as written: one kind key with its fields (plus id and label on a button). */
export type ActionEntry = Record<string, unknown>;

/** The kind and fields of an action entry (already validated). */
export function actionOf(entry: ActionEntry): { kind: ActionKind; spec: Record<string, unknown> } {
  const kind = Object.keys(entry).find((k) => k in ActionKinds) as ActionKind;
  return { kind, spec: ActionKinds[kind].parse(entry[kind]) as Record<string, unknown> };
}

/** The JSON Schema editors use to complete lab files (labs/guides/lab.schema.json). */
export function labJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(LabSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
