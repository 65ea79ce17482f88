import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { policyJsonSchema } from '../../electron/firewall/policy';

const FILE = path.join(import.meta.dirname, '../../labs/policies/policy.schema.json');

describe('published policy JSON Schema', () => {
  it('is current (regenerate with `node scripts/policy-schema.mjs`)', () => {
    expect(readFileSync(FILE, 'utf8')).toBe(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
  });

  it('describes the fields editors complete, and forbids unknown ones', () => {
    const schema = policyJsonSchema() as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['mode', 'defaultAction', 'segments', 'rules']),
    );
    expect(schema.additionalProperties).toBe(false);
    expect(JSON.stringify(schema)).toContain('"enum":["allow","deny","reject"]');
  });
});
