/**
 * A claim is judged by the student's own numbers: its relations parse (or say what is wrong),
 * hold or fail on the recorded values, and the summary says supported, not supported or not
 * measured; a contradicting number shows "not supported". The 2×2 table places each attacker's
 * figures in the cell of the shape that ran. Credentials are read from what an attacker finds.
 */
import path from 'node:path';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { LabProgress, Measurement } from '../../electron/api/contract';
import { parseLab } from '../../electron/labs/loader';
import type { ProgressFile } from '../../electron/labs/progress';
import { judge, parseRelation, verdictOf } from '../../electron/labs/relation';
import { credentialsIn } from '../../electron/labs/state';
import { claimsOf, table } from '../../electron/labs/summary';

const LAB = `id: demo
title: Demo
summary: A demo lab.
minutes: 5
order: 9
quadrant: { app: monolith, network: segmented }
setup: { deployment: monolith }
steps:
  - id: before
    title: Before
    text: Measure.
    predict:
      - id: guess
        text: How many data domains will the jumpbox read once segmented?
    checks: [{ kind: deployment, deployment: monolith }]
    solve: [{ clear-policy: {} }]
    measure:
      - { id: blast-before, label: Before, unit: workloads, from: { blast-radius: { attacker: jumpbox } } }
      - { id: domains-before, label: Domains before, unit: domains, from: { data-domains: { attacker: jumpbox } } }
  - id: after
    title: After
    text: Measure again.
    explain: [{ id: why, text: Why? }]
    checks: [{ kind: deployment, deployment: monolith }]
    solve: [{ clear-policy: {} }]
    measure:
      - { id: blast-after, label: After, unit: workloads, from: { blast-radius: { attacker: jumpbox } } }
      - { id: errors, label: Errors, unit: requests, from: { load: { stat: errors } } }
claims:
  - text: Segmentation shrinks the jumpbox's reach without breaking the shop
    article: can be used to logically isolate monolithic applications
    measures: [blast-before, blast-after, errors]
    holds: ["blast-after < blast-before", "errors == 0"]
    prediction: { step: before, id: guess }
`;

const lab = parseLab(LAB, 'demo/lab.yaml', path.join(os.tmpdir(), 'demo'));

function m(id: string, value: number, extra: Partial<Measurement> = {}): Measurement {
  return { id, label: id, unit: 'x', value, source: 'test', at: '2026-12-07T10:00:00.000Z', ...extra };
}

function progress(before: Measurement[], after: Measurement[], guess?: string): LabProgress {
  const step = (measurements: Measurement[]) => ({
    outcome: 'passed' as const,
    attempts: 1,
    hintsShown: 0,
    measurements,
    answers: {},
  });
  return {
    lab: 'demo',
    state: 'completed',
    steps: {
      before: {
        ...step(before),
        ...(guess ? { predictions: { guess: { answer: guess, at: 'then' } } } : {}),
      },
      after: step(after),
    },
  };
}

describe('relations', () => {
  it('parses ids, numbers and scaled terms; says what is wrong with a bad one', () => {
    expect(parseRelation('a-b < c')).toMatchObject({
      left: { factor: 1, measure: 'a-b' },
      op: '<',
      right: { factor: 1, measure: 'c' },
    });
    expect(parseRelation('gain >= 2 * base')).toMatchObject({ right: { factor: 2, measure: 'base' } });
    expect(parseRelation('errors == 0')).toMatchObject({ right: { factor: 0 } });
    expect(() => parseRelation('a is b')).toThrow(/not a relation/);
    expect(() => parseRelation('a < b < c')).toThrow(/more than one operator/);
    expect(() => parseRelation('a < B!')).toThrow(/neither a measure id/);
  });

  it('judges each operator on recorded values, and null while a measure is missing', () => {
    const values = new Map([
      ['a', 1],
      ['b', 2],
    ]);
    const holds = (t: string) => judge(parseRelation(t), values).holds;
    expect([
      holds('a < b'),
      holds('a <= 1'),
      holds('b > a'),
      holds('b >= 3'),
      holds('a == 1'),
      holds('a != 1'),
    ]).toEqual([true, true, true, false, true, false]);
    expect(holds('b >= 2 * a')).toBe(true);
    expect(holds('b > 2 * a')).toBe(false);
    expect(judge(parseRelation('a < z'), values)).toMatchObject({ holds: null, missing: ['z'] });
    expect(verdictOf([{ holds: true }, { holds: null }], true)).toBe('not-measured');
    expect(verdictOf([{ holds: false }, { holds: null }], false)).toBe('not-supported');
    expect(verdictOf([{ holds: true }], true)).toBe('supported');
  });
});

describe('a claim judged by the student’s numbers', () => {
  it('supported when every relation holds, with the values compared and the prediction beside it', () => {
    const [claim] = claimsOf(
      lab,
      progress([m('blast-before', 3)], [m('blast-after', 1), m('errors', 0)], '0 domains'),
    );
    expect(claim).toMatchObject({
      verdict: 'supported',
      article: 'can be used to logically isolate monolithic applications',
      relations: [
        { text: 'blast-after < blast-before', holds: true, left: 1, right: 3 },
        { text: 'errors == 0', holds: true, left: 0, right: 0 },
      ],
      prediction: {
        text: 'How many data domains will the jumpbox read once segmented?',
        answer: '0 domains',
      },
    });
  });

  it('a contradicting number shows "not supported", even with every measure recorded', () => {
    const [claim] = claimsOf(lab, progress([m('blast-before', 3)], [m('blast-after', 3), m('errors', 0)]));
    expect(claim!.verdict).toBe('not-supported');
    expect(claim!.relations[0]).toMatchObject({ holds: false, left: 3, right: 3 });
    expect(claim!.prediction).toEqual({ text: expect.any(String) });
  });

  it('not measured while a measure is missing', () => {
    const [claim] = claimsOf(lab, progress([m('blast-before', 3)], []));
    expect(claim!.verdict).toBe('not-measured');
    expect(claimsOf(lab, undefined)[0]!.verdict).toBe('not-measured');
  });

  it('the loader refuses a relation over a measure no step records, and a prediction no step asks', () => {
    const bad = LAB.replace('"errors == 0"', '"errorz == 0"').replace('id: guess }', 'id: gues }');
    expect(() => parseLab(bad, 'demo/lab.yaml', path.join(os.tmpdir(), 'demo'))).toThrow(
      /no step measures "errorz"[\s\S]*no step "before" asks for a prediction "gues"/,
    );
    expect(() =>
      parseLab(
        LAB.replace('holds: ["blast-after < blast-before", "errors == 0"]', 'holds: []'),
        'd/lab.yaml',
        '/',
      ),
    ).toThrow(/states the relation/);
    expect(() =>
      parseLab(LAB.replace('"errors == 0"', '"errors = 0"'), 'demo/lab.yaml', path.join(os.tmpdir(), 'demo')),
    ).toThrow(/lab\.yaml:\d+:\d+: "errors = 0" is not a relation/);
  });
});

describe('a claim over another lab’s number', () => {
  it('reads LAB.MEASURE from that lab’s progress, and is not measured until that lab records it', () => {
    const other = LAB.replace('id: demo', 'id: other')
      .replace('measures: [blast-before, blast-after, errors]', 'measures: [blast-after, errors]')
      .replace(
        'holds: ["blast-after < blast-before", "errors == 0"]',
        'holds: ["blast-after < demo.blast-before"]',
      );
    const o = parseLab(other, 'other/lab.yaml', path.join(os.tmpdir(), 'other'));
    const mine = progress([], [m('blast-after', 1), m('errors', 0)]);
    expect(claimsOf(o, mine, { other: mine })[0]!.verdict).toBe('not-measured');
    const demo = progress([m('blast-before', 3)], []);
    expect(claimsOf(o, mine, { other: mine, demo })[0]).toMatchObject({
      verdict: 'supported',
      relations: [{ text: 'blast-after < demo.blast-before', holds: true, left: 1, right: 3 }],
    });
    expect(claimsOf(o, mine, { demo: progress([m('blast-before', 1)], []) })[0]!.verdict).toBe(
      'not-supported',
    );
  });
});

describe('the 2×2 table', () => {
  it('puts each attacker’s figures in the cell of the shape that ran, null where not measured', () => {
    const data: ProgressFile = {
      version: 1,
      student: { name: 's' },
      labs: {
        demo: progress(
          [
            m('blast-before', 3, { attacker: 'jumpbox', metric: 'workloads', app: 'monolith' }),
            m('domains-before', 5, { attacker: 'jumpbox', metric: 'domains', app: 'monolith' }),
          ],
          [m('blast-after', 12, { attacker: 'jumpbox', metric: 'workloads', app: 'microservices' })],
        ),
      },
    };
    const cells = table([lab], data).cells;
    const cell = (app: string, network: string) => cells.find((c) => c.app === app && c.network === network)!;
    expect(cell('monolith', 'segmented').attackers).toEqual({
      jumpbox: { workloads: 3, databases: null, domains: 5, lab: 'demo', step: 'before' },
      'catalog-code': null,
    });
    expect(cell('microservices', 'segmented').attackers.jumpbox).toMatchObject({
      workloads: 12,
      domains: null,
    });
    expect(cell('monolith', 'flat').attackers).toEqual({ jumpbox: null, 'catalog-code': null });
  });

  it('a figure that names its network sits in that column; each figure is the latest of its kind', () => {
    const data: ProgressFile = {
      version: 1,
      student: { name: 's' },
      labs: {
        demo: progress(
          [
            m('blast-before', 12, {
              attacker: 'catalog-code',
              metric: 'workloads',
              app: 'microservices',
              network: 'flat',
            }),
            m('domains-before', 5, {
              attacker: 'catalog-code',
              metric: 'domains',
              app: 'microservices',
              network: 'flat',
              at: '2026-12-07T10:05:00.000Z',
            }),
          ],
          [
            m('blast-after', 2, {
              attacker: 'catalog-code',
              metric: 'workloads',
              app: 'microservices',
              network: 'flat',
              at: '2026-12-07T09:00:00.000Z',
            }),
          ],
        ),
      },
    };
    const cells = table([lab], data).cells;
    const flat = cells.find((c) => c.app === 'microservices' && c.network === 'flat')!;
    // The older reading (09:00) does not overwrite the newer one (10:00); the cell names the latest.
    expect(flat.attackers['catalog-code']).toEqual({
      workloads: 12,
      databases: null,
      domains: 5,
      lab: 'demo',
      step: 'before',
    });
    expect(
      cells.find((c) => c.app === 'microservices' && c.network === 'segmented')!.attackers['catalog-code'],
    ).toBeNull();
  });
});

describe('credentials an attacker finds where it stands', () => {
  it('reads postgres URLs from an environment and ~/.pgpass lines, once each', () => {
    const found = credentialsIn(
      [
        'HOME=/home/shop',
        'DATABASE_URL=postgres://shop:s%40cret@catalog-db:5432/postgres',
        '# host:port:db:user:password',
        'shop-db:5432:*:ops:pa\\:ss',
        'shop-db:5432:*:ops:pa\\:ss',
        'not:a:line',
      ].join('\n'),
    );
    expect(found).toEqual([
      { user: 'shop', password: 's@cret', host: 'catalog-db', source: 'DATABASE_URL' },
      { user: 'ops', password: 'pa:ss', host: 'shop-db', source: '~/.pgpass' },
    ]);
    expect(credentialsIn('PATH=/usr/bin\nHOME=/root\n')).toEqual([]);
  });
});
