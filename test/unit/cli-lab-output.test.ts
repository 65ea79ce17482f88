/**
 * What `microlab lab check` and `lab summary` print for a student: the last step says the lab
 * is complete (not "next moves on"), and counts read as English ("1 hint", "exactly 1
 * database"). The API is a fake edge here; the formatting and describeCheck are the real ones.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CheckReport, LabSummary } from '../../electron/api/contract';
import { parse } from '../../electron/cli/commands';
import type { Runtime } from '../../electron/cli/program';
import { describeCheck } from '../../electron/labs/checks';
import { CheckSchema } from '../../electron/labs/format';

/** Runs `microlab ARGV` as its definition parses it, against canned answers. */
async function printed(argv: string[], answers: Record<string, unknown>) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const call = ((method: string) => Promise.resolve(answers[method])) as Runtime['call'];
  const rt = { call, out, err: out, follow: () => Promise.resolve(0) } as unknown as Runtime;
  const code = await parse(argv).run(rt);
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
    const { code, text } = await printed(['lab', 'check'], { 'labs:check': report(2, 3) });
    expect(code).toBe(0);
    expect(text).toContain('Step 2 passed. `microlab lab next` moves on.');
  });

  it('on the last step, says the lab is complete and where the summary is', async () => {
    const { text } = await printed(['lab', 'check'], { 'labs:check': report(3, 3) });
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
    const { text } = await printed(['lab', 'summary', 'monolith-flat'], { 'labs:summary': summary });
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
