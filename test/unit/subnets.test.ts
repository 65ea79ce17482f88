import { describe, expect, it } from 'vitest';
import {
  conflicts,
  formatCidr,
  freeRange,
  fullPoolHint,
  overlaps,
  parseCidr,
  parseProcRoutes,
  planSubnets,
} from '../../electron/engine/subnets';

describe('subnets', () => {
  it('parses and normalises CIDRs', () => {
    expect(formatCidr(parseCidr('198.19.7.9/16'))).toBe('198.19.0.0/16');
    expect(formatCidr(parseCidr('0.0.0.0/0'))).toBe('0.0.0.0/0');
    expect(() => parseCidr('198.19.0.0')).toThrow(/not an IPv4 CIDR/);
    expect(() => parseCidr('300.1.1.1/8')).toThrow(/not an IPv4 CIDR/);
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/not an IPv4 CIDR/);
  });

  it.each([
    ['198.19.0.0/16', '198.19.4.0/24', true],
    ['198.19.4.0/24', '198.19.0.0/16', true],
    ['198.19.0.0/16', '198.18.0.0/24', false],
    ['10.0.0.0/8', '10.255.255.0/24', true],
    ['192.168.1.0/24', '192.168.2.0/24', false],
  ])('%s overlaps %s: %s', (a, b, expected) => {
    expect(overlaps(parseCidr(a), parseCidr(b))).toBe(expected);
  });

  it('reads /proc/net/route without the default route', () => {
    const table = [
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'wg0\t0000130A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    ].join('\n');
    expect(parseProcRoutes(table)).toEqual([
      { cidr: '192.0.2.0/24', via: 'route on eth0' },
      { cidr: '10.19.0.0/16', via: 'route on wg0' },
    ]);
  });

  it("finds the routes that collide with the pool, leaving out MicroLab's own networks", () => {
    const routes = [
      { cidr: '192.0.2.0/24', via: 'interface eth0' },
      { cidr: '198.19.3.0/24', via: 'route on br-1' },
      { cidr: '198.19.9.0/24', via: 'route on tun0' },
    ];
    expect(conflicts('198.19.0.0/16', routes, ['198.19.3.0/24'])).toEqual([
      { cidr: '198.19.9.0/24', via: 'route on tun0' },
    ]);
  });

  it('plans a pool: a network someone else made takes one /24, the rest stays free (up and the doctor agree)', () => {
    const plan = planSubnets('198.19.0.0/16', [
      { cidr: '198.19.0.0/24', by: 'Docker network squatter' },
      { cidr: '192.0.2.0/24', by: 'interface eth0' },
    ]);
    expect(plan).toEqual({
      pool: '198.19.0.0/16',
      size: 256,
      free: 255,
      next: '198.19.1.0/24',
      taken: [{ cidr: '198.19.0.0/24', by: 'Docker network squatter' }],
    });
  });

  it('a route over the whole pool: nothing free, and the hint names a range that is free here (computed)', () => {
    const taken = [
      { cidr: '198.19.0.0/16', by: 'route on tun0' },
      { cidr: '198.18.0.0/24', by: 'Docker network bridge' },
      { cidr: '10.0.0.0/15', by: 'route on wg0' },
    ];
    const plan = planSubnets('198.19.0.0/16', taken);
    expect(plan).toMatchObject({ free: 0, suggestion: '10.2.0.0/16' });
    expect(plan.next).toBeUndefined();
    expect(fullPoolHint(plan)).toMatch(
      /^Set MICROLAB_SUBNET_POOL=10\.2\.0\.0\/16 \(nothing on this host uses it\)/,
    );
    // the suggestion is never the pool in conflict, nor anything that overlaps what is taken
    for (const t of taken) expect(overlaps(parseCidr(t.cidr), parseCidr(plan.suggestion!))).toBe(false);
  });

  it('says when no free range was found', () => {
    const everything = ['0.0.0.0/1', '128.0.0.0/1'].map((cidr) => ({ cidr, by: 'route on tun0' }));
    expect(freeRange(everything)).toBeUndefined();
    const plan = planSubnets('198.19.0.0/16', everything);
    expect(plan.suggestion).toBeUndefined();
    expect(fullPoolHint(plan)).toMatch(/^No free \/16 was found on this host in /);
  });
});
