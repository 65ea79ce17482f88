import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parsePolicy, policyJsonSchema } from '../../electron/firewall/policy';
import { REJECTED } from '../policy-fixtures';

const DIR = path.join(import.meta.dirname, '../../labs/policies');
const FILE = path.join(DIR, 'policy.schema.json');

/** What an editor does with the published file: a JSON Schema 2020-12 validator (ajv, strict; `required` inside anyOf names properties defined beside it). */
function editorCheck(): (text: string) => 'accepted' | 'rejected' | 'not YAML' {
  const validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(
    JSON.parse(readFileSync(FILE, 'utf8')) as object,
  );
  return (text) => {
    let data: unknown;
    try {
      data = parse(text, { uniqueKeys: true, strict: true }) as unknown;
    } catch {
      return 'not YAML';
    }
    return validate(data ?? null) ? 'accepted' : 'rejected';
  };
}

describe('published policy JSON Schema', () => {
  it('is current (regenerate with `node scripts/json-schemas.mjs`)', () => {
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

  const check = editorCheck();

  it.each(REJECTED.filter((f) => !f.beyondSchema).map((f) => [f.what, f.text] as const))(
    'rejects what the validator rejects: %s',
    (_what, text) => {
      expect(() => parsePolicy(text)).toThrow();
      expect(check(text)).toBe('rejected');
    },
  );

  it('leaves to the validator only what no JSON Schema can see: YAML faults and one part of the file against another', () => {
    const beyond = REJECTED.filter((f) => f.beyondSchema);
    expect(beyond.map((f) => [f.what, f.beyondSchema, check(f.text)])).toEqual([
      ['bad YAML', 'yaml', 'not YAML'],
      ['duplicate keys', 'yaml', 'not YAML'],
      ['a backwards range', 'cross-reference', 'accepted'],
      ['overlapping port ranges', 'cross-reference', 'accepted'],
      ['an unknown segment', 'cross-reference', 'accepted'],
      ['a duplicate rule id', 'cross-reference', 'accepted'],
    ]);
    for (const f of beyond) expect(() => parsePolicy(f.text), f.what).toThrow();
  });

  it.each(readdirSync(DIR).filter((n) => n.endsWith('.yaml')))('accepts the shipped %s', (name) => {
    const text = readFileSync(path.join(DIR, name), 'utf8');
    expect(() => parsePolicy(text)).not.toThrow();
    expect(check(text)).toBe('accepted');
  });
});
