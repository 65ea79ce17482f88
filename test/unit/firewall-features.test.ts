/**
 * The doctor's firewall probe is derived from the compiler's output: every construct the
 * compiler emits has a name, and the reading of the probe names what a kernel refused.
 */
import { describe, expect, it } from 'vitest';
import {
  FIREWALL_FEATURES,
  featuresOf,
  firewallProbe,
  probeScript,
  readFirewallProbe,
  readProbe,
  ruleLines,
} from '../../electron/firewall/features';

const probe = firewallProbe();

/** What the probe script would print on a kernel that refuses every rule using `refused`. */
function outputRefusing(
  refused: (rule: string) => boolean,
  error = 'Error: Could not process rule: No such file or directory',
): string {
  const lines = ['probe kernel 6.1.0-test', `probe table fail ${error}`];
  probe.rules.forEach((r, i) =>
    lines.push(refused(r.rule) ? `probe rule ${i} fail ${error}` : `probe rule ${i} ok`),
  );
  lines.push('probe conntrack-create ok', 'deleted 0 0', 'probe listed 0');
  return lines.join('\n');
}

describe('the firewall probe', () => {
  it('is the compiled table of a policy using every construct, each rule line covered by named features', () => {
    const used = new Set(probe.rules.flatMap((r) => r.features));
    // every feature the doctor knows is exercised by the probe...
    expect([...used].sort()).toEqual(FIREWALL_FEATURES.map((f) => f.id).sort());
    // ...and every rule line is nothing but named features (a new construct needs a name first)
    for (const { rule } of ruleLines(probe.table)) {
      let rest = rule;
      for (const f of FIREWALL_FEATURES) rest = rest.replace(new RegExp(f.pattern.source, 'g'), ' ');
      // what remains are the words that join constructs (the "new" of ct state new is in ct-state)
      expect(rest.replace(/\s+/g, ' ').trim(), rule).toBe('');
    }
  });

  it('keeps the compiler table as written, and tries each rule and its matches alone', () => {
    expect(probe.table).toContain('table inet microlab {');
    const rules = probe.rules.map((r) => r.rule);
    const reset = rules.find((r) => r.startsWith('ip saddr 198.51.100.20 tcp dport 8080 tcp flags'))!;
    expect(reset).toContain('reject with tcp reset');
    expect(rules).toContain(reset.replace('reject with tcp reset', 'accept'));
    expect(
      probe.rules.every((r) => /^type filter hook (input|output) priority 0; policy accept;$/.test(r.chain)),
    ).toBe(true);
    const script = probeScript(probe);
    expect(script).toContain(
      'conntrack -D -p tcp -s 198.51.100.1 -d 198.51.100.2 --sport 40000 --dport 8080',
    );
    expect(script.match(/^ {2}if try nft -f \/tmp\/rule-\d+\.nft;/gm)).toHaveLength(probe.rules.length);
  });

  it('names reject as missing when only the rules with reject fail, and nothing that works elsewhere', () => {
    const output = outputRefusing((r) => /\breject\b/.test(r.replace(/comment "[^"]*"/, '')));
    const result = readProbe(probe, output);
    expect(result.table).toBe('refused');
    expect(result.missing.map((f) => f.id).sort()).toEqual(['reject-icmp', 'reject-tcp-reset']);
    expect(result.refusedRules).toEqual([]);
    const finding = readFirewallProbe(probe, output, 0);
    expect(finding.status).toBe('fail');
    expect(finding.summary).toContain('missing reject with tcp reset; reject with icmp (port unreachable)');
    expect(finding.details?.['nft: reject with tcp reset']).toBe(
      'missing (nft_reject_inet (CONFIG_NFT_REJECT))',
    );
    expect(finding.details?.['nft: tcp flags match']).toBe('works alone');
    expect(finding.hint).toContain('6.1.0-test');
  });

  it("names interval sets alone when the set backend for ranges is missing, and says WSL2's kernel", () => {
    const output = outputRefusing((r) => featuresOf(r).includes('interval')).replace(
      'probe kernel 6.1.0-test',
      'probe kernel 5.15.153.1-microsoft-standard-WSL2',
    );
    const finding = readFirewallProbe(probe, output, 0);
    expect(finding.summary).toMatch(/missing interval sets \(port ranges in a set\) \(nft: /);
    expect(finding.hint).toMatch(/^WSL2's kernel \(5\.15\.153\.1-microsoft-standard-WSL2\)/);
    expect(finding.hint).toContain('sudo modprobe nft_set_rbtree');
  });

  it.each([
    // nft 1.0.6 (Debian bookworm's, in our images) under qemu-aarch64, as run here
    'mnl.c:60: Unable to initialize Netlink socket: Protocol not supported',
    // newer nft, as public reports quote it (multiarch/qemu-user-static#191)
    'Error: Failed to initialize nft: Protocol not supported',
  ])('says emulation, not the kernel, when nft cannot open its netlink socket: %s', (error) => {
    const output = outputRefusing(() => true, error);
    const finding = readFirewallProbe(probe, output, 0);
    expect(finding.summary).toBe(`nft cannot talk to the kernel: ${error}`);
    expect(finding.hint).toMatch(/emulation/);
    expect(finding.hint).not.toMatch(/modprobe/);
  });

  it('fails on a table that loads but a conntrack entry that stays', () => {
    const output = [
      'probe kernel 6.1.0',
      'probe table ok',
      'probe conntrack-create ok',
      'deleted 0 1',
      'probe listed 22',
    ].join('\n');
    const finding = readFirewallProbe(probe, output, 0);
    expect(finding.status).toBe('fail');
    expect(finding.details?.['conntrack -D']).toBe('failed: the entry stayed');
    const good = readFirewallProbe(probe, output.replace('deleted 0 1', 'deleted 0 0'), 0);
    expect(good.status).toBe('pass');
    expect(good.summary).toContain('22 rules listed back');
  });

  it('fails with the output when the script printed nothing of its own', () => {
    const finding = readFirewallProbe(probe, 'sh: 1: nft: not found', 127);
    expect(finding.status).toBe('fail');
    expect(finding.summary).toContain('exit 127');
    expect(finding.summary).toContain('nft: not found');
  });
});
