/**
 * Checks failing the same way: the progress records each failed run's first failing check and
 * its message (bounded; older files without it still load), the `check` event carries it (a
 * strict, bounded field), and the dashboard shows each student's failing check with how many
 * runs in a row failed that way, counts STUCK_SAME_FAILURES such runs as stuck (keeping the
 * STUCK_MINUTES rule), and names the check most students on a step fail.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StepProgress } from '../../electron/api/contract';
import {
  commonFailures,
  dashboardOf,
  failureStreak,
  STUCK_MINUTES,
  STUCK_SAME_FAILURES,
  type RosterEntry,
} from '../../electron/class/dashboard';
import {
  EventBatchSchema,
  Ledger,
  checkMessage,
  eventsFromProgress,
  type ClassEvent,
} from '../../electron/class/protocol';
import {
  ANSWER_IN_MESSAGE,
  FAILURE_TEXT_CHARS,
  MAX_FAILURES,
  ProgressStore,
  emptyStep,
  recordFailure,
  type ProgressFile,
} from '../../electron/labs/progress';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

const result = (id: string, passed: boolean, message = 'ok') => ({
  id,
  description: `the ${id} check`,
  passed,
  message,
});

describe('the progress of a failed check run', () => {
  it("records the run's first failing check and its message, one line each, cut to its bounds", () => {
    const s = emptyStep();
    recordFailure(s, 1, [
      result('predict', true),
      result('policy-1', false, 'catalog still\n reaches shop-db'),
      result('quiz-2', false, 'no'),
    ]);
    expect(s.failures).toEqual([
      {
        attempt: 1,
        check: 'policy-1',
        description: 'the policy-1 check',
        message: 'catalog still reaches shop-db',
      },
    ]);
    recordFailure(s, 2, [result('policy-1', false, 'x'.repeat(5000))]);
    expect(s.failures![1]!.message).toHaveLength(FAILURE_TEXT_CHARS);
    expect(s.failures![1]!.message.endsWith('…')).toBe(true);
    // A run that passed leaves nothing.
    recordFailure(s, 3, [result('policy-1', true)]);
    expect(s.failures).toHaveLength(2);
  });

  it("never keeps the student's answer: two wrong answers fail the same way", () => {
    const s = { ...emptyStep(), answers: { password: 'hunter2', count: '5' } };
    recordFailure(s, 1, [result('quiz-1', false, '"hunter2" is not the answer to "password"')]);
    s.answers.password = 'letmein';
    recordFailure(s, 2, [result('quiz-1', false, '"letmein" is not the answer to "password"')]);
    // Only the quoted answer: a 5 elsewhere in a message stays.
    recordFailure(s, 3, [result('flow-2', false, 'port 5432 is open, "5" found')]);
    expect(s.failures!.map((f) => f.message)).toEqual([
      `${ANSWER_IN_MESSAGE} is not the answer to "password"`,
      `${ANSWER_IN_MESSAGE} is not the answer to "password"`,
      `port 5432 is open, ${ANSWER_IN_MESSAGE} found`,
    ]);
  });

  it(`keeps the latest ${MAX_FAILURES} runs`, () => {
    const s = emptyStep();
    for (let n = 1; n <= MAX_FAILURES + 5; n++) recordFailure(s, n, [result('quiz-1', false, `try ${n}`)]);
    expect(s.failures).toHaveLength(MAX_FAILURES);
    expect(s.failures![0]!.attempt).toBe(6);
    expect(s.failures!.at(-1)!.message).toBe(`try ${MAX_FAILURES + 5}`);
  });

  it('loads a progress file from before the field, and its check events carry no failure', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mlc-fail-'));
    try {
      const file = path.join(dir, 'progress.json');
      const old = {
        version: 1,
        labs: {
          lab1: {
            lab: 'lab1',
            state: 'in-progress',
            steps: { s1: { outcome: 'pending', attempts: 2, hintsShown: 0, measurements: [], answers: {} } },
          },
        },
      };
      await writeFile(file, JSON.stringify(old));
      const read = await new ProgressStore(file, 'me').read();
      expect(read.labs.lab1!.steps.s1!.attempts).toBe(2);
      const checks = eventsFromProgress(read).filter((e) => e.kind === 'check');
      expect(checks).toHaveLength(2);
      expect(checks.every((e) => e.failed === undefined)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function progressWith(step: StepProgress): ProgressFile {
  return { version: 1, labs: { lab1: { lab: 'lab1', state: 'in-progress', steps: { s1: step } } } };
}

describe('the check event', () => {
  it('carries how each failed run failed, and nothing on the run that passed', () => {
    const s: StepProgress = {
      ...emptyStep(),
      attempts: 3,
      outcome: 'passed',
      startedAt: at(0),
      doneAt: at(5),
    };
    recordFailure(s, 1, [result('quiz-1', false, 'wrong')]);
    recordFailure(s, 2, [result('flow-2', false, 'still open')]);
    const checks = eventsFromProgress(progressWith(s)).filter((e) => e.kind === 'check');
    expect(checks.map((e) => [e.attempt, e.passed, e.failed?.check])).toEqual([
      [1, false, 'quiz-1'],
      [2, false, 'flow-2'],
      [3, true, undefined],
    ]);
    expect(checks[1]!.failed).toEqual({
      check: 'flow-2',
      description: 'the flow-2 check',
      message: 'still open',
    });
    // What the host accepts.
    expect(checkMessage(EventBatchSchema, { events: checks }).events).toHaveLength(3);
  });

  it('refuses a failure too long or with fields of its own', () => {
    const event = (failed: object) => ({
      events: [{ id: 'c', kind: 'check', at: 'now', attempt: 1, passed: false, failed }],
    });
    expect(() =>
      checkMessage(EventBatchSchema, event({ check: 'q', description: '', message: 'x'.repeat(201) })),
    ).toThrow(/events\.0\.failed\.message/);
    expect(() =>
      checkMessage(EventBatchSchema, event({ check: 'q', description: '', message: '', answer: 'pw' })),
    ).toThrow(/events\.0\.failed/);
    expect(() => checkMessage(EventBatchSchema, event({ check: '', description: '', message: '' }))).toThrow(
      /events\.0\.failed\.check/,
    );
  });
});

/** Check events of runs 1..n on lab1/s1: each `[check, message]` failed, or `pass`. */
function runs(ways: ([string, string] | 'pass')[]): ClassEvent[] {
  return ways.map((w, i) => ({
    id: `check/lab1/s1/${i + 1}`,
    kind: 'check',
    at: at(1),
    lab: 'lab1',
    step: 's1',
    attempt: i + 1,
    passed: w === 'pass',
    ...(w === 'pass' ? {} : { failed: { check: w[0], description: `the ${w[0]} check`, message: w[1] } }),
  }));
}

describe('failing the same way', () => {
  it('counts the runs in a row, back from the latest, that failed as it did', () => {
    expect(failureStreak([])).toBeUndefined();
    expect(failureStreak(runs([['q', 'a'], 'pass']))).toBeUndefined();
    expect(
      failureStreak(
        runs([
          ['q', 'a'],
          ['q', 'a'],
          ['f', 'open'],
          ['q', 'a'],
          ['q', 'a'],
        ]),
      ),
    ).toEqual({
      check: 'q',
      description: 'the q check',
      message: 'a',
      streak: 2,
    });
    // The same check failing with another message is another way.
    expect(
      failureStreak(
        runs([
          ['q', 'a'],
          ['q', 'b'],
        ]),
      )!.streak,
    ).toBe(1);
    // Out of order as they arrived: counted in the runs' order.
    expect(
      failureStreak(
        runs([
          ['f', 'x'],
          ['q', 'a'],
          ['q', 'a'],
        ]).reverse(),
      )!.streak,
    ).toBe(2);
    // Runs sent without their check (a MicroLab from before): one unknown way.
    const bare = runs([
      ['q', 'a'],
      ['q', 'a'],
      ['q', 'a'],
    ]).map(({ failed: _, ...e }) => e);
    expect(failureStreak(bare)).toMatchObject({ check: 'unknown', streak: 3 });
  });

  const roster = (n: number): RosterEntry[] =>
    Array.from({ length: n }, (_, i) => ({
      key: `s${i + 1}`,
      name: `Student ${i + 1}`,
      state: 'approved',
      address: '127.0.0.1',
      joinedAt: at(0),
    }));
  const started = (lab: string, step: string, minute = 0): ClassEvent => ({
    id: `started/${lab}/${step}`,
    kind: 'step-started',
    at: at(minute),
    lab,
    step,
  });
  const onStep = (lab: string, step: string, ways: ([string, string] | 'pass')[]) =>
    runs(ways).map((e) => ({ ...e, id: e.id.replace('lab1/s1', `${lab}/${step}`), lab, step }));

  it(`marks a student stuck after ${STUCK_SAME_FAILURES} runs failing the same way, not after as many different ones`, () => {
    const ledger = new Ledger();
    const same = Array.from({ length: STUCK_SAME_FAILURES }, () => ['quiz-1', 'wrong'] as [string, string]);
    ledger.accept('s1', [started('lab1', 's1'), ...onStep('lab1', 's1', same)]);
    ledger.accept('s2', [
      started('lab1', 's1'),
      ...onStep('lab1', 's1', [
        ['quiz-1', 'wrong'],
        ['flow-2', 'open'],
        ['quiz-1', 'wrong'],
      ]),
    ]);
    ledger.accept('s3', [started('lab1', 's1'), ...onStep('lab1', 's1', same.slice(1))]);
    const board = dashboardOf(
      { id: 'c', createdAt: at(0), address: '127.0.0.1', port: 1, autoApprove: true },
      roster(3),
      ledger,
      [],
      [],
      T0 + 2 * 60_000,
    );
    const [s1, s2, s3] = board.students;
    expect(s1).toMatchObject({
      stuck: true,
      failing: { check: 'quiz-1', message: 'wrong', streak: STUCK_SAME_FAILURES },
    });
    expect(s2).toMatchObject({ stuck: false, attempts: 3, failing: { check: 'quiz-1', streak: 1 } });
    expect(s3).toMatchObject({ stuck: false, failing: { streak: STUCK_SAME_FAILURES - 1 } });
    // The ten-minute rule stays.
    const later = dashboardOf(board.class, roster(3), ledger, [], [], T0 + STUCK_MINUTES * 60_000);
    expect(later.students.map((s) => s.stuck)).toEqual([true, true, true]);
  });

  it('names, per step, the check most students on it fail now, most students first', () => {
    const ledger = new Ledger();
    const fails = (key: string, lab: string, step: string, check: string) =>
      ledger.accept(key, [started(lab, step), ...onStep(lab, step, [[check, `${check} failed`]])]);
    fails('s1', 'lab1', 's1', 'policy-1');
    fails('s2', 'lab1', 's1', 'policy-1');
    fails('s3', 'lab1', 's1', 'quiz-2');
    fails('s4', 'lab1', 's2', 'flow-1');
    // Passed since: not failing now.
    ledger.accept('s5', [started('lab1', 's1'), ...onStep('lab1', 's1', [['policy-1', 'x'], 'pass'])]);
    const board = dashboardOf(
      { id: 'c', createdAt: at(0), address: '127.0.0.1', port: 1, autoApprove: true },
      roster(5),
      ledger,
      [],
      [],
      T0 + 60_000,
    );
    expect(board.commonFailures).toEqual([
      { lab: 'lab1', step: 's1', check: 'policy-1', description: 'the policy-1 check', students: 2 },
      { lab: 'lab1', step: 's2', check: 'flow-1', description: 'the flow-1 check', students: 1 },
    ]);
    expect(commonFailures([])).toEqual([]);
  });
});
