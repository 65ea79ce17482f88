/**
 * The live class's protocol, pure: the join code read back (and refused when it is not one),
 * events derived from progress with stable ids, the outbox (resend until acknowledged, never
 * after) and the ledger (a resent event counted once).
 */
import { describe, expect, it } from 'vitest';
import {
  EventBatchSchema,
  Ledger,
  MAX_BATCH_EVENTS,
  Outbox,
  checkMessage,
  decodeJoinCode,
  encodeJoinCode,
  eventsFromProgress,
  type ClassEvent,
} from '../../electron/class/protocol';
import { progressFromEvents } from '../../electron/class/dashboard';
import type { ProgressFile } from '../../electron/labs/progress';

const code = { host: '10.1.2.3', port: 8443, token: 'a'.repeat(43), fingerprint: 'ab'.repeat(32) };

function progress(attempts: number, hints: number, passed: boolean): ProgressFile {
  return {
    version: 1,
    labs: {
      'monolith-flat': {
        lab: 'monolith-flat',
        state: 'in-progress',
        steps: {
          deploy: {
            outcome: passed ? 'passed' : 'pending',
            attempts,
            hintsShown: hints,
            startedAt: '2026-12-07T10:00:00.000Z',
            ...(passed ? { doneAt: '2026-12-07T10:05:00.000Z', seconds: 300 } : {}),
            measurements: passed
              ? [
                  {
                    id: 'domains',
                    label: 'data domains',
                    unit: '',
                    value: 5,
                    source: 'x',
                    at: '2026-12-07T10:04:00.000Z',
                  },
                ]
              : [],
            answers: {},
            predictions: { guess: { answer: '5', at: '2026-12-07T10:01:00.000Z' } },
          },
        },
      },
    },
  };
}

describe('the join code', () => {
  it('reads back what it carries', () => {
    const text = encodeJoinCode(code);
    expect(text.startsWith('MLC1.')).toBe(true);
    expect(decodeJoinCode(`  ${text}\n`)).toEqual(code);
  });

  it('refuses what is not a join code, saying what is wrong', () => {
    expect(() => decodeJoinCode('hello')).toThrow(/does not start with MLC1/);
    expect(() => decodeJoinCode('MLC1.%%%')).toThrow(/not base64url JSON/);
    const bad = encodeJoinCode({ ...code, fingerprint: 'zz' });
    expect(() => decodeJoinCode(bad)).toThrow(/f: /);
    const noHost = encodeJoinCode({ ...code, host: 'example.org' });
    expect(() => decodeJoinCode(noHost)).toThrow(/h: /);
  });
});

describe('events from progress', () => {
  it('gives each fact a stable id, and the same events again plus the new ones after a change', () => {
    const before = eventsFromProgress(progress(2, 1, false));
    const after = eventsFromProgress(progress(3, 2, true));
    const ids = (list: ClassEvent[]) => list.map((e) => e.id);
    expect(ids(before)).toEqual([
      'started/monolith-flat/deploy',
      'check/monolith-flat/deploy/1',
      'check/monolith-flat/deploy/2',
      'hint/monolith-flat/deploy/1',
      'predict/monolith-flat/deploy/guess',
    ]);
    for (const id of ids(before)) expect(ids(after)).toContain(id);
    expect(
      ids(after)
        .filter((id) => !ids(before).includes(id))
        .sort(),
    ).toEqual([
      'check/monolith-flat/deploy/3',
      'hint/monolith-flat/deploy/2',
      'measure/monolith-flat/deploy/domains/2026-12-07T10:04:00.000Z',
      'pass/monolith-flat/deploy',
    ]);
    expect(after.find((e) => e.id === 'check/monolith-flat/deploy/3')?.passed).toBe(true);
    expect(after.find((e) => e.id === 'check/monolith-flat/deploy/2')?.passed).toBe(false);
  });

  it('rebuilds the progress the events came from (what the dashboard reads)', () => {
    const p = progress(3, 2, true);
    const rebuilt = progressFromEvents(eventsFromProgress(p), []);
    const step = rebuilt.labs['monolith-flat']!.steps.deploy!;
    expect(step).toMatchObject({ outcome: 'passed', attempts: 3, hintsShown: 2, seconds: 300 });
    expect(step.measurements.map((m) => m.value)).toEqual([5]);
    expect(step.predictions).toEqual(p.labs['monolith-flat']!.steps.deploy!.predictions);
  });
});

describe('the outbox and the ledger', () => {
  it('resends what was not acknowledged, never what was, and the ledger counts each event once', () => {
    const box = new Outbox();
    const ledger = new Ledger();
    expect(box.add(eventsFromProgress(progress(2, 1, false)))).toBe(5);
    // The first send is lost on the way back: the host holds it, the student does not know.
    ledger.accept('s1', box.batch());
    expect(box.size).toBe(5);
    // The student adds the next events (the same ones again are not queued twice) and resends.
    expect(box.add(eventsFromProgress(progress(3, 2, true)))).toBe(4);
    const answer = ledger.accept('s1', box.batch());
    expect(answer.fresh).toHaveLength(4);
    box.ack(answer.acked);
    expect(box.size).toBe(0);
    // Acknowledged events never come back, even when the progress is read again.
    expect(box.add(eventsFromProgress(progress(3, 2, true)))).toBe(0);
    expect(ledger.totals()).toMatchObject({
      'step-started': 1,
      check: 3,
      hint: 2,
      pass: 1,
      measurement: 1,
      prediction: 1,
    });
  });

  it('survives a restart of the student MicroLab through its saved form', () => {
    const box = new Outbox();
    box.add(eventsFromProgress(progress(2, 0, false)));
    box.ack(['started/monolith-flat/deploy']);
    const again = Outbox.from(JSON.parse(JSON.stringify(box.toJSON())) as ReturnType<Outbox['toJSON']>);
    expect(again.size).toBe(3);
    expect(again.add(eventsFromProgress(progress(2, 0, false)))).toBe(0);
  });

  it('sends in batches of at most MAX_BATCH_EVENTS', () => {
    const box = new Outbox();
    const many: ClassEvent[] = Array.from({ length: MAX_BATCH_EVENTS + 5 }, (_, i) => ({
      id: `hint/l/s/${i + 1}`,
      kind: 'hint',
      at: 'now',
      hint: i + 1,
    }));
    box.add(many);
    expect(box.batch()).toHaveLength(MAX_BATCH_EVENTS);
  });
});

describe('messages', () => {
  it('refuses a malformed batch, naming the field', () => {
    expect(() =>
      checkMessage(EventBatchSchema, { events: [{ id: 'x', kind: 'telemetry', at: 'now' }] }),
    ).toThrow(/events\.0\.kind/);
    expect(() => checkMessage(EventBatchSchema, { events: [], extra: 1 })).toThrow(/malformed message/);
    const tooMany = Array.from({ length: MAX_BATCH_EVENTS + 1 }, (_, i) => ({
      id: `${i}`,
      kind: 'hint',
      at: 'now',
    }));
    expect(() => checkMessage(EventBatchSchema, { events: tooMany })).toThrow(/events/);
    expect(() =>
      checkMessage(EventBatchSchema, {
        events: [
          {
            id: 'm',
            kind: 'measurement',
            at: 'now',
            measurement: { id: 'x', label: '', unit: '', value: Infinity, at: 'now' },
          },
        ],
      }),
    ).toThrow(/finite|number/);
  });
});
