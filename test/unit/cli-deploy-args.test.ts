import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../electron/cli/commands';
import { parseDuration, parseMix, UsageError } from '../../electron/cli/values';

describe('microlab up / scale / upgrade', () => {
  it.each([
    [['up', 'monolith'], { name: 'up', deployment: 'monolith' }],
    [['up', 'microservices', '--port', '9000'], { name: 'up', deployment: 'microservices', port: 9000 }],
    [['up', 'monolith', '--port', '0'], { name: 'up', deployment: 'monolith', port: 0 }],
    [['up', 'microservices', '--perimeter'], { name: 'up', deployment: 'microservices', perimeter: true }],
    [['scale', 'catalog', '3'], { name: 'scale', service: 'catalog', replicas: 3 }],
    [
      ['scale', 'catalog', '3', '--cpus', '0.25'],
      { name: 'scale', service: 'catalog', replicas: 3, cpus: 0.25 },
    ],
    [['upgrade', 'catalog', '--version', '2'], { name: 'upgrade', service: 'catalog', version: 2 }],
    [['upgrade', 'catalog', '--version', '4'], { name: 'upgrade', service: 'catalog', version: 4 }],
  ])('%j', (argv, command) => {
    expect(parseCommand(argv)).toEqual(command);
  });

  it.each([
    [['up'], 'up needs DEPLOYMENT (monolith or microservices): microlab up DEPLOYMENT'],
    [['up', 'mainframe'], 'up needs a deployment: monolith or microservices'],
    [['up', 'monolith', '--port', '70000'], '--port must be a whole number from 0 to 65535, not "70000"'],
    [['scale', 'catalog'], 'scale needs N (replicas, 1 to 10): microlab scale SERVICE N'],
    [
      ['scale', 'catalog', 'three'],
      'the number of replicas must be a whole number from 1 to 10, not "three"',
    ],
    [['scale', 'catalog', '0'], 'the number of replicas must be a whole number from 1 to 10, not "0"'],
    [['upgrade', 'catalog'], "required option '--version <V>' not specified"],
    [
      ['upgrade', '--version', '2'],
      'upgrade needs SERVICE (a microservice, or shop/app for the monolith): microlab upgrade SERVICE',
    ],
    [['scale', 'catalog', '3', '--cpus', '8'], '--cpus must be a number from 0.05 to 4 (cores), not "8"'],
    [['upgrade', 'catalog', '--version', '5'], '--version must be a whole number from 1 to 4, not "5"'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});

describe('microlab load', () => {
  it('reads rate, duration, mix and --json', () => {
    expect(
      parseCommand(['load', '--rate', '25', '--duration', '2m', '--mix', 'browse=10,checkout=1', '--json']),
    ).toEqual({
      name: 'load',
      rate: 25,
      duration: 120,
      mix: { browse: 10, checkout: 1 },
      json: true,
    });
    expect(parseCommand(['load', '--rate', '0.5', '--duration', '30'])).toEqual({
      name: 'load',
      rate: 0.5,
      duration: 30,
      json: false,
    });
  });

  it('--find-capacity: a search from --rate (default 5/s) for at most --duration (default 60 s), with its bounds', () => {
    expect(parseCommand(['load', '--find-capacity', '--mix', 'search=1'])).toEqual({
      name: 'load',
      rate: 5,
      duration: 60,
      mix: { search: 1 },
      json: false,
      capacity: {},
    });
    expect(
      parseCommand([
        'load',
        '--find-capacity',
        '--rate',
        '15',
        '--duration',
        '45',
        '--p95',
        '300',
        '--max-errors',
        '2',
      ]),
    ).toEqual({
      name: 'load',
      rate: 15,
      duration: 45,
      json: false,
      capacity: { p95Ms: 300, maxErrorRate: 0.02 },
    });
  });

  it.each([
    [['load', '--duration', '10'], 'load needs --rate R and --duration D (or --find-capacity)'],
    [
      ['load', '--rate', '5', '--duration', '10', '--p95', '300'],
      '--p95 and --max-errors bound a capacity search: add --find-capacity',
    ],
    [['load', '--find-capacity', '--p95', '0'], '--p95 must be a number above 0 and at most 60000, not "0"'],
    [
      ['load', '--rate', '0', '--duration', '10'],
      '--rate must be a number above 0 and at most 1000, not "0"',
    ],
    [
      ['load', '--rate', '5', '--duration', 'soon'],
      '--duration must be from 1s to 60m (30, 30s or 2m), not "soon"',
    ],
    [
      ['load', '--rate', '5', '--duration', '5', '--mix', 'shop=1'],
      '--mix: unknown scenario "shop" (use browse, cart, checkout, account, search, signup)',
    ],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });

  it('parses durations and mixes', () => {
    expect(parseDuration('45s')).toBe(45);
    expect(parseDuration('1.5m')).toBe(90);
    expect(() => parseDuration('0')).toThrow(UsageError);
    expect(parseMix('account=2, cart=1')).toEqual({ account: 2, cart: 1 });
    expect(() => parseMix('browse=0')).toThrow('--mix needs a scenario with a weight above 0');
    expect(() => parseMix('browse=x')).toThrow(
      '--mix weight of browse must be a whole number from 0 to 1000, not "x"',
    );
  });
});
