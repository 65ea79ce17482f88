import { describe, expect, it } from 'vitest';
import { buildCli, parseCommand } from '../../electron/cli/commands';
import { UsageError } from '../../electron/cli/values';

const USAGE = buildCli().usage();

describe('firewall commands', () => {
  it.each([
    [
      ['policy', 'apply', 'p.yaml'],
      { name: 'policy-apply', file: 'p.yaml', json: false, keepEstablished: false },
    ],
    [
      ['policy', 'apply', 'p.yaml', '--keep-established'],
      { name: 'policy-apply', file: 'p.yaml', json: false, keepEstablished: true },
    ],
    [
      ['policy', 'apply', 'p.yaml', '--mode', 'monitor', '--json'],
      { name: 'policy-apply', file: 'p.yaml', mode: 'monitor', json: true, keepEstablished: false },
    ],
    [['policy', 'validate', 'p.yaml'], { name: 'policy-validate', file: 'p.yaml', json: false }],
    [['policy', 'show'], { name: 'policy-show', json: false }],
    [['policy', 'clear'], { name: 'policy-clear' }],
    [
      ['policy', 'explain', 'web', 'db', '5432'],
      { name: 'policy-explain', src: 'web', dst: 'db', port: 5432, protocol: 'tcp', json: false },
    ],
    [
      ['policy', 'explain', 'web', 'dns', '53/udp', '--json'],
      { name: 'policy-explain', src: 'web', dst: 'dns', port: 53, protocol: 'udp', json: true },
    ],
    [['flows'], { name: 'flows', follow: false, json: false }],
    [['flows', '--follow', '--json'], { name: 'flows', follow: true, json: true }],
    [['flows', '-f', '--limit', '5'], { name: 'flows', follow: true, json: false, limit: 5 }],
    [
      ['flows', '--since', '2026-01-31T10:00:00Z'],
      { name: 'flows', follow: false, json: false, since: '2026-01-31T10:00:00.000Z' },
    ],
    [['counters', '--json'], { name: 'counters', json: true }],
    [['probe'], { name: 'probe', json: false }],
    [['probe', '--json', '--timeout', '2'], { name: 'probe', json: true, timeout: 2 }],
    [['blast-radius', 'jumpbox'], { name: 'blast-radius', workload: 'jumpbox', json: false }],
    [
      ['blast-radius', 'payments-db', '--json', '--timeout', '0.5'],
      { name: 'blast-radius', workload: 'payments-db', json: true, timeout: 0.5 },
    ],
  ])('%j', (argv, command) => {
    expect(parseCommand(argv)).toEqual(command);
  });

  it.each([
    [['policy'], /policy needs a command/],
    [['policy', 'apply'], /policy apply needs FILE/],
    [
      ['policy', 'apply', 'p.yaml', '--mode', 'audit'],
      /'audit' is invalid. Allowed choices are off, monitor, enforce/,
    ],
    [['policy', 'apply', 'a.yaml', 'b.yaml'], /unexpected argument "b.yaml"/],
    [['policy', 'explain', 'web', 'db'], /policy explain needs PORT/],
    [['policy', 'explain', 'web', 'db', '70000'], /PORT must be 1-65535/],
    [['policy', 'explain', 'web', 'db', '80/icmp'], /PORT must be/],
    [['policy', 'remove'], /unknown policy command "remove"/],
    [['flows', '--since', 'yesterday'], /--since must be a time/],
    [['flows', '--limit', '0'], /--limit must be a whole number/],
    [['probe', '--timeout', '60'], /--timeout must be a whole number from 1 to 10/],
    [['counters', '--bogus'], /unknown option '--bogus'/],
    [['blast-radius'], /blast-radius needs WORKLOAD/],
    [['blast-radius', 'jumpbox', 'shop'], /unexpected argument "shop"/],
    [['blast-radius', 'Jump Box'], /WORKLOAD is a workload's name/],
    [
      ['blast-radius', 'jumpbox', '--timeout', '0.1'],
      /--timeout must be a number from 0.2 to 10 \(seconds\), not "0.1"/,
    ],
    [['blast-radius', 'jumpbox', '--timeout', 'soon'], /--timeout must be a number/],
    [['blast-radius', 'jumpbox', '--verbose'], /unknown option '--verbose'/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });

  it('the usage lists them', () => {
    for (const words of [
      'policy apply FILE',
      'policy explain SRC DST PORT',
      'flows [--follow]',
      'counters',
      'probe [--json]',
      'blast-radius WORKLOAD [--json]',
    ])
      expect(USAGE).toContain(words);
  });
});
