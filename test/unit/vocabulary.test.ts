/**
 * The domain's vocabulary is declared once and every schema takes its words from there: the
 * API's inputs, the policy language and the lab format accept each word of a list and refuse
 * any other, naming the list (electron/api/vocabulary.ts, electron/firewall/vocabulary.ts,
 * electron/topology/types.ts, the load generator's SCENARIOS).
 */
import { describe, expect, it } from 'vitest';
import { methods } from '../../electron/api/contract';
import {
  ACTIONS,
  DEPLOYMENTS,
  EXPORT_TARGETS,
  FOUND_FIELDS,
  LAB_APPS,
  LAYOUTS,
  LOAD_SCENARIOS,
  MODES,
  VERDICTS,
} from '../../electron/api/vocabulary';
import { parsePolicy } from '../../electron/firewall/policy';
import * as fields from '../../electron/labs/fields';
import { SCENARIOS } from '../../labs/shop/src/loadgen/stats';

const refused = (
  schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } },
  v: unknown,
) =>
  schema
    .safeParse(v)
    .error?.issues.map((i) => i.message)
    .join('; ');

describe("the API's vocabulary", () => {
  it("carries the owners' lists unchanged (the 2×2's rows are the deployments)", () => {
    expect(DEPLOYMENTS).toEqual(['monolith', 'microservices']);
    expect(LAB_APPS).toBe(DEPLOYMENTS);
    expect(LOAD_SCENARIOS).toBe(SCENARIOS);
    expect(MODES).toEqual(['off', 'monitor', 'enforce']);
    expect(ACTIONS).toEqual(['allow', 'deny', 'reject']);
    expect(VERDICTS).toEqual(['allowed', 'denied', 'rejected', 'audit']);
  });

  it('is what the API inputs accept: each word, and nothing else', () => {
    for (const deployment of DEPLOYMENTS)
      for (const layout of LAYOUTS)
        expect(methods['deploy:up'].input.safeParse({ deployment, layout }).success).toBe(true);
    expect(methods['deploy:up'].input.safeParse({ deployment: 'mainframe' }).success).toBe(false);
    expect(methods['deploy:up'].input.safeParse({ deployment: 'monolith', layout: 'mesh' }).success).toBe(
      false,
    );
    for (const mode of MODES)
      expect(methods['policy:apply'].input.safeParse({ file: 'p.yaml', mode }).success).toBe(true);
    expect(methods['policy:apply'].input.safeParse({ file: 'p.yaml', mode: 'audit' }).success).toBe(false);
    for (const target of EXPORT_TARGETS)
      expect(methods['export:kubernetes'].input.safeParse({ target, noPolicy: true }).success).toBe(true);
    expect(methods['export:kubernetes'].input.safeParse({ target: 'istio', noPolicy: true }).success).toBe(
      false,
    );
    for (const s of LOAD_SCENARIOS)
      expect(methods['load:run'].input.safeParse({ rate: 1, duration: 1, mix: { [s]: 1 } }).success).toBe(
        true,
      );
    expect(methods['load:run'].input.safeParse({ rate: 1, duration: 1, mix: { crawl: 1 } }).success).toBe(
      false,
    );
  });

  it("is what the policy language accepts as a mode and a rule's action", () => {
    const policy = (mode: string, action: string) =>
      `mode: ${mode}\ndefaultAction: deny\nsegments:\n  a: { selector: { tier: app } }\nrules:\n  - { id: r, from: { segment: a }, to: { segment: a }, ports: [80], action: ${action} }\n`;
    for (const mode of MODES)
      for (const action of ACTIONS) expect(parsePolicy(policy(mode, action)).mode).toBe(mode);
    expect(() => parsePolicy(policy('audit', 'allow'))).toThrow(/mode is one of off, monitor, enforce/);
    expect(() => parsePolicy(policy('enforce', 'drop'))).toThrow(/action is one of allow, deny, reject/);
  });

  it("is what the lab format's fields accept, and their refusals name the words", () => {
    for (const d of DEPLOYMENTS) expect(fields.deployment.parse(d)).toBe(d);
    for (const l of LAYOUTS) expect(fields.layout.parse(l)).toBe(l);
    for (const m of MODES) expect(fields.mode.parse(m)).toBe(m);
    for (const v of VERDICTS) expect(fields.verdict.parse(v)).toBe(v);
    for (const f of FOUND_FIELDS) expect(fields.found.parse({ workload: 'jumpbox', field: f }).field).toBe(f);
    expect(refused(fields.deployment, 'mainframe')).toBe('deployment is monolith or microservices');
    expect(refused(fields.layout, 'mesh')).toBe('layout is flat or perimeter');
    expect(refused(fields.mode, 'on')).toBe('mode is one of off, monitor, enforce');
    expect(refused(fields.verdict, 'dropped')).toBe('verdict is allowed, denied, rejected or audit');
    expect(fields.mix.safeParse({ browse: 1, checkout: 2 }).success).toBe(true);
    expect(fields.mix.safeParse({ crawl: 1 }).success).toBe(false);
  });
});
