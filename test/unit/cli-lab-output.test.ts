/**
 * What `microlab lab check` and `lab summary` print for a student: the last step says the lab
 * is complete (not "next moves on"), and counts read as English ("1 hint", "exactly 1
 * database"). The API is a fake edge here; the formatting and describeCheck are the real ones.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CheckReport, LabSummary } from '../../electron/api/contract';
import { runLabCommand } from '../../electron/cli/lab';
import { describeCheck } from '../../electron/labs/checks';
import { CheckSchema } from '../../electron/labs/format';

async function printed(command: Parameters<typeof runLabCommand>[0], answers: Record<string, unknown>) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const call = ((method: string) => Promise.resolve(answers[method])) as Parameters<typeof runLabCommand>[1];
  const code = await runLabCommand(command, call, () => Promise.resolve(0), out);
  return { code, text };
}

function report(step: number, steps: number): CheckReport {
  return {
    lab: 'monolith-flat',
    step,
    stepId: `s${step}`,
    passed: true,
    results: [{ id: 'c0', kind: 'answer', description: 'the answer', passed: true, message: 'right' }],
    measurements: [],
    notRecorded: [],
    outcome: 'passed',
    steps,
  } as unknown as CheckReport;
}

describe('microlab lab check', () => {
  it('on a step before the last, points to lab next', async () => {
    const { code, text } = await printed({ name: 'lab-check', json: false }, { 'labs:check': report(2, 3) });
    expect(code).toBe(0);
    expect(text).toContain('Step 2 passed. `microlab lab next` moves on.');
  });

  it('on the last step, says the lab is complete and where the summary is', async () => {
    const { text } = await printed({ name: 'lab-check', json: false }, { 'labs:check': report(3, 3) });
    expect(text).toContain('Step 3 passed. That was the last step: the lab is complete.');
    expect(text).toContain('microlab lab summary');
    expect(text).not.toContain('moves on');
  });
});

describe('microlab lab summary', () => {
  it('counts checks and hints in singular and plural', async () => {
    const summary = {
      lab: 'monolith-flat',
      title: 'The monolith, flat',
      quadrant: { app: 'monolith', network: 'flat' },
      state: 'completed',
      claims: [],
      steps: [
        { id: 'a', title: 'One', outcome: 'passed', attempts: 1, hintsShown: 1, seconds: 12 },
        { id: 'b', title: 'Two', outcome: 'solved', attempts: 3, hintsShown: 0 },
      ],
    } as unknown as LabSummary;
    const { text } = await printed(
      { name: 'lab-summary', lab: 'monolith-flat', json: false },
      { 'labs:summary': summary },
    );
    expect(text).toContain('1 check, 1 hint, 12 s');
    expect(text).toContain('3 checks, 0 hints');
  });
});

describe('describeCheck', () => {
  it('says "1 database" for exactly one and "workloads" otherwise', () => {
    const check = CheckSchema.parse({
      kind: 'blast-radius',
      workload: 'jumpbox',
      workloads: { min: 2 },
      databases: { equals: 1 },
    });
    expect(describeCheck(check)).toBe('blast radius of jumpbox: at least 2 workloads, exactly 1 database');
  });
});
