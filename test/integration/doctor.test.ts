import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../electron/api/contract';
import { runDoctor } from '../../electron/engine/doctor';
import { baseImageName } from '../../electron/engine/images';
import { labelsFor } from '../../electron/engine/labels';
import { EngineRegistry } from '../../electron/engine/registry';
import { doctorFirewallCheck, FIREWALL_FEATURES } from '../../electron/firewall/features';
import { cli, docker } from './support';

/**
 * An `nft` in front of the real one that refuses any file with a reject statement, with the
 * words Linux uses when nft_reject is missing: a kernel without the reject module.
 */
const NFT_WITHOUT_REJECT = [
  '#!/bin/sh',
  'for f; do :; done',
  'if [ -f "$f" ] && sed \'s/comment "[^"]*"//\' "$f" | grep -qw reject; then',
  '  echo "Error: Could not process rule: No such file or directory" >&2; exit 1',
  'fi',
  'exec /usr/sbin/nft "$@"',
  '',
].join('\n');

/** The base image with that `nft` first on the PATH, labelled as this test's; removed by the caller. */
async function imageWithoutReject(): Promise<string> {
  const tag = `${project}-nft-without-reject:test`;
  const script = Buffer.from(NFT_WITHOUT_REJECT).toString('base64');
  const builder = await docker.createContainer({
    Image: baseImageName(),
    Cmd: ['sh', '-c', `echo ${script} | base64 -d > /usr/local/sbin/nft && chmod 755 /usr/local/sbin/nft`],
    Labels: labelsFor(project, 'doctor-test', { transient: true }),
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await builder.start();
    expect(((await builder.wait()) as { StatusCode: number }).StatusCode).toBe(0);
    const [repo, version] = tag.split(':');
    await builder.commit({ repo, tag: version });
  } finally {
    await builder.remove({ force: true });
  }
  return tag;
}

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
      'memory',
      'architecture',
      'disk',
      'images',
      'nftables',
      'subnets',
    ]);
    expect(report.endpoint?.source).toBeTruthy();
    expect(report.checks.find((c) => c.id === 'host')?.details).toMatchObject({
      cpus: expect.stringMatching(/^\d+$/),
    });
    // the images are this engine's own architecture, compared image by image
    const arch = (await docker.version()).Arch;
    expect(report.checks.find((c) => c.id === 'architecture')?.details).toMatchObject({
      engine: arch,
      [baseImageName()]: arch,
    });
    // the firewall check tried every construct the compiler emits, and conntrack -D
    const nftables = report.checks.find((c) => c.id === 'nftables')!;
    expect(nftables.summary).toMatch(/every construct the compiler emits \(\d+ rules listed back\)/);
    for (const f of FIREWALL_FEATURES) expect(nftables.details?.[`nft: ${f.name}`]).toBe('works');
    expect(nftables.details?.['conntrack -D']).toBe('works');

    const leftovers = await docker.listContainers({
      all: true,
      filters: { label: [`io.microlab.project=${project}`] },
    });
    expect(leftovers).toEqual([]);
  });

  it('a kernel without the reject module: the firewall check names reject, and nothing that works', async () => {
    const image = await imageWithoutReject();
    try {
      const report = await runDoctor(new EngineRegistry(), project, {
        firewall: doctorFirewallCheck(),
        firewallImage: image,
      });
      const nftables = report.checks.find((c) => c.id === 'nftables')!;
      expect(nftables.status).toBe('fail');
      expect(nftables.summary).toMatch(
        /^the kernel refused the firewall's table: missing reject with tcp reset; reject with icmp \(port unreachable\) \(nft: Error: Could not process rule: No such file or directory/,
      );
      expect(nftables.details?.['nft: reject with tcp reset']).toMatch(/^missing \(nft_reject_inet/);
      expect(nftables.details?.['nft: tcp flags match']).toBe('works alone');
      expect(nftables.details?.['nft: interval sets (port ranges in a set)']).toBe('works alone');
      // conntrack is another binary: it still works in that namespace
      expect(nftables.details?.['conntrack -D']).toBe('works');
      expect(nftables.hint).toMatch(/lacks nft_reject_inet/);
      expect(report.ok).toBe(false);
    } finally {
      await docker.getImage(image).remove({ force: true });
    }
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
    // `status` names the product behind the endpoint (Podman names itself; see test/podman).
    const status = await cli(['status'], { MICROLAB_PROJECT: project });
    expect(status.stdout.split('\n')[0]).toMatch(/^Engine: Docker \d+\.\d+\S* at \S+ \(/);
  });

  it('a network someone else made in the pool: the doctor passes, as `up` places its networks beside it', async () => {
    const before = JSON.parse(
      (await cli(['doctor', '--json'], { MICROLAB_PROJECT: project })).stdout,
    ) as DoctorReport;
    const next = before.checks.find((c) => c.id === 'subnets')?.details?.next;
    expect(next).toMatch(/^198\.19\.\d+\.0\/24$/);
    const squatter = await docker.createNetwork({
      Name: `${project}-squatter`,
      IPAM: { Config: [{ Subnet: next! }] },
    });
    try {
      const report = JSON.parse(
        (await cli(['doctor', '--json'], { MICROLAB_PROJECT: project })).stdout,
      ) as DoctorReport;
      const subnets = report.checks.find((c) => c.id === 'subnets')!;
      expect(subnets.status).toBe('pass');
      expect(subnets.summary).toContain(`${next} by Docker network ${project}-squatter`);
      expect(subnets.details?.next).not.toBe(next);
    } finally {
      await squatter.remove();
    }
  });

  it('a pool with nothing free: the doctor fails and `up` refuses, both naming a range that is free here', async () => {
    // the engine's own bridge holds 198.18.0.0/24 on our machines: a pool of just that is full
    const env = { MICROLAB_PROJECT: project, MICROLAB_SUBNET_POOL: '198.18.0.0/24' };
    const result = await cli(['doctor', '--json'], env);
    const report = JSON.parse(result.stdout) as DoctorReport;
    const subnets = report.checks.find((c) => c.id === 'subnets');
    expect(subnets?.status).toBe('fail');
    expect(subnets?.summary).toMatch(
      /^198\.18\.0\.0\/24: 0 of 1 lab networks free \(taken: 198\.18\.0\.0\/24 by /,
    );
    const suggested = /MICROLAB_SUBNET_POOL=(\S+) \(nothing on this host uses it\)/.exec(
      subnets?.hint ?? '',
    )?.[1];
    expect(suggested).toMatch(/^\d+\.\d+\.0\.0\/16$/);
    expect(suggested).not.toBe('198.18.0.0/16');
    expect(report.ok).toBe(false);
    expect(result.code).toBe(1);

    const up = await cli(['up', 'monolith', '--port', '0'], env);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('no free /24 left in the lab subnet pool 198.18.0.0/24');
    expect(up.stderr).toContain(`hint: Set MICROLAB_SUBNET_POOL=${suggested} (nothing on this host uses it)`);
    await cli(['down'], { MICROLAB_PROJECT: project });
  });
});
