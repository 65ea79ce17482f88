import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../electron/api/contract';
import { cli, docker } from './support';

const project = 'microlab-it-doctor';

describe('microlab doctor on the real engine', () => {
  it('is all green on this machine, and leaves nothing behind', async () => {
    const result = await cli(['doctor', '--json'], { MICROLAB_PROJECT: project });
    const report = JSON.parse(result.stdout) as DoctorReport;
    const failing = report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.summary}`);
    expect(failing).toEqual([]);
    expect(result.code).toBe(0);
    expect(report.checks.map((c) => c.id)).toEqual([
      'engine',
      'version',
      'host',
      'disk',
      'images',
      'nftables',
      'subnets',
    ]);
    expect(report.endpoint?.source).toBeTruthy();
    expect(report.checks.find((c) => c.id === 'host')?.details).toMatchObject({
      cpus: expect.stringMatching(/^\d+$/),
    });

    const leftovers = await docker.listContainers({
      all: true,
      filters: { label: [`io.microlab.project=${project}`] },
    });
    expect(leftovers).toEqual([]);
  });

  it('prints a readable report with a verdict', async () => {
    const result = await cli(['doctor'], { MICROLAB_PROJECT: project });
    expect(result.stdout).toMatch(/✔ Docker engine: connected to /);
    expect(result.stdout).toMatch(/✔ Per-workload firewall/);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('Ready for the labs.');
  });

  it('fails the subnet check, with a fix, when the pool overlaps a host route', async () => {
    const result = await cli(['doctor', '--json'], {
      MICROLAB_PROJECT: project,
      MICROLAB_SUBNET_POOL: '0.0.0.0/0',
    });
    const report = JSON.parse(result.stdout) as DoctorReport;
    const subnets = report.checks.find((c) => c.id === 'subnets');
    expect(subnets?.status).toBe('fail');
    expect(subnets?.summary).toMatch(/^0\.0\.0\.0\/0 overlaps \d+\.\d+\.\d+\.\d+\/\d+ \(/);
    expect(subnets?.hint).toMatch(/MICROLAB_SUBNET_POOL=/);
    expect(report.ok).toBe(false);
    expect(result.code).toBe(1);
  });
});
