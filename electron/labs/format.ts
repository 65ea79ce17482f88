/**
 * The lab format: labs/guides/<id>/lab.yaml, validated by the zod schema below (published as
 * labs/guides/lab.schema.json, kept equal by a test). The schema of each kind of action, check
 * and measure is defined with its behaviour (actions.ts, checks/, measures.ts; the fields they
 * share: fields.ts); this module assembles steps and the lab around them, and reads no file.
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
 *   troubleshooting:                                  (the instructor's guide prints them)
 *     - { symptom: what the student sees, cause: why, fix: what to do }
 *
 * An action is written `{ id, label, <kind>: {...} }` (one kind key); so is a solve entry,
 * without id and label. A check is `{ kind: …, ...its fields }`.
 */
import { z } from 'zod';
import { LAB_APPS, LAB_NETWORKS, LAB_VIEWS } from '../api/vocabulary';
import { actionOf, ActionSchema, oneAction } from './actions';
import type { ActionEntry } from './actions';
import { CheckSchema } from './checks';
import { deployment, id, layout, markdown, policyRef } from './fields';
import { MeasureSchema } from './measures';
import type { LabMeasure } from './measures';
import { parseRelation } from './relation';

export { actionOf, CheckSchema };
export type { ActionEntry };
export type { LabCheck } from './checks';

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
    troubleshooting: z
      .array(
        z.strictObject({
          symptom: z.string().min(1).max(500).meta({ description: 'what the student sees' }),
          cause: z.string().min(1).max(1000),
          fix: z.string().min(1).max(1000).meta({ description: 'what to do (a command where one does it)' }),
        }),
      )
      .max(20)
      .default([])
      .meta({ description: "known failure modes and their fixes, printed in the instructor's guide" }),
  })
  .meta({ title: 'MicroLab guided lab' });

export type Lab = z.output<typeof LabSchema>;
export type LabStep = Lab['steps'][number];
export type { LabMeasure };
/** The JSON Schema editors use to complete lab files (labs/guides/lab.schema.json). */
export function labJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(LabSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
