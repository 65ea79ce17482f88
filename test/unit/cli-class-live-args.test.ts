/**
 * `class host` and `class join` arguments: the interface and port read, a bad port refused, and
 * a join code on the command line refused (it holds the class token; process lists show argv).
 */
import { describe, expect, it } from 'vitest';
import { buildCli, parseCommand } from '../../electron/cli/commands';
import { addressOf } from '../../electron/class/interfaces';

describe('class host and join arguments', () => {
  it('reads the host options', () => {
    expect(
      parseCommand(['class', 'host', '--interface', 'eth0', '--port', '9443', '--auto-approve']),
    ).toEqual({
      name: 'class-host',
      iface: 'eth0',
      port: 9443,
      autoApprove: true,
      fresh: false,
    });
    expect(parseCommand(['class', 'host'])).toMatchObject({ port: 8443, autoApprove: false });
    expect(() => parseCommand(['class', 'host', '--port', '70000'])).toThrow(
      /--port must be a whole number from 0 to 65535/,
    );
    expect(() => parseCommand(['class', 'host', '--everywhere'])).toThrow();
  });

  it('never takes the join code as an argument', () => {
    expect(parseCommand(['class', 'join'])).toEqual({ name: 'class-join', doctor: true });
    expect(parseCommand(['class', 'join', '--no-doctor'])).toEqual({ name: 'class-join', doctor: false });
    expect(() => parseCommand(['class', 'join', 'MLC1.abc'])).toThrow(/takes no code as an argument/);
    // The refusal never echoes the code.
    expect(() => parseCommand(['class', 'join', 'MLC1.abc'])).not.toThrow(/MLC1\.abc/);
  });

  it("shows no code in class join's synopsis or help", () => {
    const join = buildCli()
      .program.commands.find((c) => c.name() === 'class')!
      .commands.find((c) => c.name() === 'join')!;
    const help = join.helpInformation();
    expect(help).toMatch(/^Usage: microlab class join \[options\]\n/);
    expect(help).not.toMatch(/\bCODE\b/);
    expect(help).toContain('--no-doctor');
  });

  it('lists class join in `microlab help` without a code', () => {
    const cli = buildCli();
    const join = cli.find(['class', 'join'])!;
    expect(cli.synopsisOf(join)).toBe('class join [--no-doctor]');
  });

  it('`microlab help` names where the state is kept and the code variable', () => {
    const usage = buildCli().usage();
    expect(usage).toContain('MICROLAB_STATE_DIR');
    expect(usage).toContain('MICROLAB_CLASS_CODE');
  });

  it('reads class catch-up with or without a suggestion', () => {
    expect(parseCommand(['class', 'catch-up'])).toEqual({ name: 'class-catch-up' });
    expect(parseCommand(['class', 'catch-up', 'c2'])).toEqual({ name: 'class-catch-up', id: 'c2' });
    expect(() => parseCommand(['class', 'catch-up', 'c2', 'c3'])).toThrow(/unexpected argument "c3"/);
  });

  it('listens on the named interface only, and lists the interfaces when the name is missing or unknown', () => {
    const all = {
      lo: [{ address: '127.0.0.1', family: 'IPv4' }],
      wlan0: [
        { address: 'fe80::1', family: 'IPv6' },
        { address: '192.168.4.20', family: 'IPv4' },
      ],
      v6only: [{ address: 'fd00::5', family: 'IPv6' }],
      linklocal: [{ address: 'fe80::9', family: 'IPv6' }],
    } as unknown as Parameters<typeof addressOf>[1];
    expect(addressOf('wlan0', all)).toBe('192.168.4.20');
    expect(addressOf('v6only', all)).toBe('fd00::5');
    expect(() => addressOf(undefined, all)).toThrow(/never on all/);
    expect(() => addressOf('eth9', all)).toThrow(/no interface "eth9"/);
    try {
      addressOf('eth9', all);
    } catch (e) {
      expect((e as { hint?: string }).hint).toContain('wlan0 fe80::1 192.168.4.20');
    }
    expect(() => addressOf('linklocal', all)).toThrow(/no address a student can reach/);
  });
});
