/**
 * A check kind is defined once (electron/labs/checks/): its fields, description and evaluation
 * together, gathered in CHECKS; the lab format's schema, its JSON Schema and its error for an
 * unknown kind are built from that record, in the API's order.
 */
import { describe, expect, it } from 'vitest';
import { LAB_CHECK_KINDS } from '../../electron/api/vocabulary';
import { CHECKS, CheckSchema, describeCheck } from '../../electron/labs/checks';
import { labJsonSchema } from '../../electron/labs/format';

const KINDS = LAB_CHECK_KINDS.filter((k) => k !== 'predict');

describe('the check kinds', () => {
  it("are the API's check kinds (all but predict, a step's unanswered predictions)", () => {
    expect(Object.keys(CHECKS).sort()).toEqual([...KINDS].sort());
    for (const kind of KINDS) {
      const def = CHECKS[kind];
      expect(typeof def.describe).toBe('function');
      expect(typeof def.evaluate).toBe('function');
      expect(Object.keys(def.fields)).not.toContain('kind');
    }
  });

  it('make the schema: each kind with the common fields and its own, nothing else', () => {
    const flow = CheckSchema.parse({
      kind: 'flow',
      src: 'jumpbox',
      dst: 'shop-db',
      port: 5432,
      id: 'f',
      timeout: 5,
    });
    expect(flow).toEqual({ kind: 'flow', src: 'jumpbox', dst: 'shop-db', port: 5432, id: 'f', timeout: 5 });
    // A field of another kind is refused (strict objects), defaults are applied.
    expect(CheckSchema.safeParse({ kind: 'flow', src: 'a', dst: 'b', port: 1, question: 'q' }).success).toBe(
      false,
    );
    expect(CheckSchema.parse({ kind: 'counter', rule: 'r1' })).toEqual({
      kind: 'counter',
      rule: 'r1',
      min: 1,
    });
  });

  it("name every kind, in the API's order, when a kind is unknown", () => {
    const r = CheckSchema.safeParse({ kind: 'ping' });
    expect(r.error?.issues[0]?.message).toBe(`unknown check kind "ping": one of ${KINDS.join(', ')}`);
  });

  it("give the lab's JSON Schema one alternative per kind, in the same order", () => {
    const text = JSON.stringify(labJsonSchema());
    const at = KINDS.map((k) => text.indexOf(`"const":"${k}"`));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("describe a check with the kind's sentence, unless the lab gives its own", () => {
    const check = CheckSchema.parse({ kind: 'deployment', deployment: 'monolith', layout: 'perimeter' });
    expect(describeCheck(check)).toBe('the monolith runs in the perimeter layout');
    expect(describeCheck({ ...check, description: 'the shop is up' })).toBe('the shop is up');
  });
});
