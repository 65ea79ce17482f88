/**
 * The firewall's CLI grammar: policy apply|validate|show|explain, flows, counters, probe,
 * blast-radius.
 * Pure, like args.ts, which hands these commands over (with its UsageError, so this file
 * does not import args.ts back).
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

type Fail = (message: string) => never;

export type FirewallCommand =
  | {
      name: 'policy-apply';
      file: string;
      mode?: 'off' | 'monitor' | 'enforce';
      keepEstablished: boolean;
      json: boolean;
    }
  | { name: 'policy-validate'; file: string; json: boolean }
  | { name: 'policy-show'; json: boolean }
  | { name: 'policy-clear' }
  | { name: 'policy-explain'; src: string; dst: string; port: number; protocol: 'tcp' | 'udp'; json: boolean }
  | { name: 'flows'; follow: boolean; json: boolean; since?: string; limit?: number }
  | { name: 'counters'; json: boolean }
  | { name: 'probe'; json: boolean; timeout?: number }
  | { name: 'blast-radius'; workload: string; json: boolean; timeout?: number };

export const FIREWALL_USAGE = `  policy apply FILE [--mode monitor|enforce|off] [--keep-established] [--json]
                                  validate a policy and put it in force on every workload
                                  (an invalid one is reported with positions and changes nothing);
                                  open connections it denies are cut, unless --keep-established
  policy validate FILE [--json]   check a policy without applying it
  policy show [--json]            the policy in force, its segments and the expected flows
  policy clear                    remove the policy: every workload's rules go, nothing is enforced
  policy explain SRC DST PORT[/udp] [--json]
                                  why the policy gives that flow its verdict
  flows [--follow] [--json] [--since TIME] [--limit N]
                                  one line per new connection: verdict and deciding rule
  counters [--json]               packets and bytes per rule
  probe [--json] [--timeout S]    reachability matrix: expected against observed, mismatches flagged
  blast-radius WORKLOAD [--json] [--timeout S]
                                  if WORKLOAD were compromised: every workload and port it reaches,
                                  expected and observed from inside it, with the deciding rule
                                  (S: seconds a denied probe waits, 0.2 to 10, default 1)`;

type Options = NonNullable<ParseArgsConfig['options']>;

function parse<const O extends Options>(fail: Fail, args: string[], options: O, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    fail((err as Error).message.replace(/\. To specify a positional.*$/, ''));
  }
  if (parsed.positionals.length > positionals)
    fail(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`);
  return parsed;
}

const json = { json: { type: 'boolean' as const } };

function positiveInt(fail: Fail, flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    fail(`${flag} must be a whole number from 1 to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

export function parseFirewallCommand(first: string, rest: string[], fail: Fail): FirewallCommand {
  switch (first) {
    case 'policy':
      return parsePolicy(rest, fail);
    case 'flows': {
      const { values } = parse(
        fail,
        rest,
        {
          ...json,
          follow: { type: 'boolean', short: 'f' },
          since: { type: 'string' },
          limit: { type: 'string' },
        },
        0,
      );
      if (values.since !== undefined && Number.isNaN(Date.parse(values.since)))
        fail(`--since must be a time like 2026-01-31T10:00:00Z, not ${JSON.stringify(values.since)}`);
      const limit = positiveInt(fail, '--limit', values.limit, 100_000);
      return {
        name: 'flows',
        follow: Boolean(values.follow),
        json: Boolean(values.json),
        ...(values.since !== undefined ? { since: new Date(values.since).toISOString() } : {}),
        ...(limit !== undefined ? { limit } : {}),
      };
    }
    case 'counters':
      return { name: 'counters', json: Boolean(parse(fail, rest, json, 0).values.json) };
    case 'probe': {
      const { values } = parse(fail, rest, { ...json, timeout: { type: 'string' } }, 0);
      const timeout = positiveInt(fail, '--timeout', values.timeout, 10);
      return { name: 'probe', json: Boolean(values.json), ...(timeout !== undefined ? { timeout } : {}) };
    }
    case 'blast-radius': {
      const { values, positionals } = parse(fail, rest, { ...json, timeout: { type: 'string' } }, 1);
      const workload = positionals[0];
      if (!workload) fail('blast-radius needs a WORKLOAD, e.g. jumpbox');
      if (!/^[a-z][a-z0-9-]{0,62}$/.test(workload))
        fail(`WORKLOAD is a workload's name (as in \`microlab status\`), not ${JSON.stringify(workload)}`);
      const timeout = seconds(fail, '--timeout', values.timeout);
      return {
        name: 'blast-radius',
        workload,
        json: Boolean(values.json),
        ...(timeout !== undefined ? { timeout } : {}),
      };
    }
    default:
      fail(`unknown command ${JSON.stringify(first)}`);
  }
}

/** Seconds from 0.2 to 10, fractions allowed. */
function seconds(fail: Fail, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0.2 || n > 10)
    fail(`${flag} must be seconds from 0.2 to 10, not ${JSON.stringify(value)}`);
  return n;
}

function parsePolicy([sub, ...rest]: string[], fail: Fail): FirewallCommand {
  switch (sub) {
    case 'apply': {
      const { values, positionals } = parse(
        fail,
        rest,
        { ...json, mode: { type: 'string' }, 'keep-established': { type: 'boolean' } },
        1,
      );
      if (!positionals[0]) fail('policy apply needs a FILE');
      const mode = values.mode;
      if (mode !== undefined && mode !== 'off' && mode !== 'monitor' && mode !== 'enforce')
        fail(`--mode is monitor, enforce or off, not ${JSON.stringify(mode)}`);
      return {
        name: 'policy-apply',
        file: positionals[0],
        json: Boolean(values.json),
        keepEstablished: Boolean(values['keep-established']),
        ...(mode ? { mode } : {}),
      };
    }
    case 'validate': {
      const { values, positionals } = parse(fail, rest, json, 1);
      if (!positionals[0]) fail('policy validate needs a FILE');
      return { name: 'policy-validate', file: positionals[0], json: Boolean(values.json) };
    }
    case 'show':
      return { name: 'policy-show', json: Boolean(parse(fail, rest, json, 0).values.json) };
    case 'clear':
      parse(fail, rest, {}, 0);
      return { name: 'policy-clear' };
    case 'explain': {
      const { values, positionals } = parse(fail, rest, json, 3);
      const [src, dst, portText] = positionals;
      if (!src || !dst || !portText) fail('policy explain needs SRC DST PORT, e.g. web api 8080');
      const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(portText);
      const port = Number(m?.[1]);
      if (!m || port < 1 || port > 65535)
        fail(`PORT must be 1-65535, optionally /tcp or /udp, not ${JSON.stringify(portText)}`);
      return {
        name: 'policy-explain',
        src,
        dst,
        port,
        protocol: (m[2] ?? 'tcp') as 'tcp' | 'udp',
        json: Boolean(values.json),
      };
    }
    default:
      fail(
        sub
          ? `unknown policy command ${JSON.stringify(sub)}`
          : 'policy needs a command: apply, validate, show or explain',
      );
  }
}
