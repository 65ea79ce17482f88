/** The CLI's value checks: each accepts its range and names what it got when it refuses. */
import { describe, expect, it } from 'vitest';
import {
  decimal,
  matching,
  nonBlank,
  parsePort,
  parseTime,
  UsageError,
  wholeNumber,
} from '../../electron/cli/values';

describe('value checks', () => {
  it('whole numbers: digits only, within the bounds', () => {
    const n = wholeNumber('--limit', 1, 10);
    expect(n('1')).toBe(1);
    expect(n('10')).toBe(10);
    for (const bad of ['0', '11', '1.5', '-1', ' 2', '', '1e1'])
      expect(() => n(bad)).toThrow(
        new UsageError(`--limit must be a whole number from 1 to 10, not ${JSON.stringify(bad)}`),
      );
  });

  it('decimals: from a minimum, or above it, with a unit', () => {
    const cpus = decimal('--cpus', 0.05, 4, { unit: 'cores' });
    expect(cpus('0.05')).toBe(0.05);
    expect(() => cpus('4.5')).toThrow('--cpus must be a number from 0.05 to 4 (cores), not "4.5"');
    const rate = decimal('--rate', 0, 1000, { above: true });
    expect(rate('0.5')).toBe(0.5);
    expect(() => rate('0')).toThrow('--rate must be a number above 0 and at most 1000, not "0"');
    expect(() => rate('')).toThrow(UsageError);
    expect(() => rate('fast')).toThrow(UsageError);
  });

  it('patterns, blanks, ports and times', () => {
    const label = matching('--namespace', /^[a-z]+$/, 'a DNS label');
    expect(label('shop')).toBe('shop');
    expect(() => label('Shop')).toThrow('--namespace is a DNS label, not "Shop"');
    expect(() => nonBlank('--out')(' ')).toThrow('--out must not be blank');
    expect(parsePort('53/udp')).toEqual({ port: 53, protocol: 'udp' });
    expect(parsePort('8080')).toEqual({ port: 8080, protocol: 'tcp' });
    expect(() => parsePort('0')).toThrow('PORT must be 1-65535');
    expect(parseTime('--since')('2026-01-31T10:00:00+01:00')).toBe('2026-01-31T09:00:00.000Z');
    expect(() => parseTime('--since')('soon')).toThrow('--since must be a time like');
  });
});
