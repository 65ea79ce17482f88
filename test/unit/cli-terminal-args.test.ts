import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../electron/cli/commands';
import { UsageError } from '../../electron/cli/values';

describe('microlab shell and exec', () => {
  it.each([
    [['shell', 'catalog'], { name: 'shell', workload: 'catalog', firewall: false }],
    [['shell', 'catalog', '--firewall'], { name: 'shell', workload: 'catalog', firewall: true }],
    [
      ['shell', '--replica', '2', 'catalog'],
      { name: 'shell', workload: 'catalog', firewall: false, replica: 2 },
    ],
    [
      ['exec', 'shop-db', '--', 'psql', '-c', 'select 1'],
      { name: 'exec', workload: 'shop-db', firewall: false, command: ['psql', '-c', 'select 1'] },
    ],
    [
      ['exec', 'catalog', '--firewall', '--replica', '3', '--', 'nft', 'list', 'ruleset'],
      { name: 'exec', workload: 'catalog', firewall: true, replica: 3, command: ['nft', 'list', 'ruleset'] },
    ],
    // Options after -- belong to the command.
    [
      ['exec', 'catalog', '--', 'ls', '--firewall', '--', '-l'],
      { name: 'exec', workload: 'catalog', firewall: false, command: ['ls', '--firewall', '--', '-l'] },
    ],
  ])('%j', (argv, expected) => {
    expect(parseCommand(argv)).toEqual(expected);
  });

  it.each([
    [['shell'], 'shell needs WORKLOAD (a workload, e.g. catalog): microlab shell WORKLOAD'],
    [['exec', 'catalog'], 'exec needs a command after --: exec catalog -- id'],
    [['exec', 'catalog', '--'], 'exec needs a command after --'],
    [['exec', 'catalog', 'id'], 'put the command after --: exec catalog -- id'],
    [['shell', 'catalog', 'extra'], 'unexpected argument "extra"'],
    [['shell', 'catalog', '--', 'id'], 'shell takes no command: nothing goes after --'],
    [['shell', 'Catalog'], 'WORKLOAD is a workload\'s name (like catalog), not "Catalog"'],
    [['shell', 'catalog', '--replica', '0'], '--replica must be a whole number from 1 to 100, not "0"'],
    [['shell', 'catalog', '--replica', 'two'], '--replica must be a whole number'],
    [['shell', 'catalog', '--user', 'root'], "unknown option '--user'"],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});
