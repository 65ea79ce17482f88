/**
 * The interface a class is hosted on: the instructor names one (never every interface by
 * default), and the class listens on its address only.
 */
import os from 'node:os';
import { ApiError } from '../errors';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** "eth0 10.0.0.5, wlan0 192.168.1.20": every interface with an address, for messages. */
export function listInterfaces(all: Interfaces = os.networkInterfaces()): string {
  return (
    Object.entries(all)
      .map(([name, addrs]) => `${name} ${(addrs ?? []).map((a) => a.address).join(' ')}`.trim())
      .join(', ') || 'none'
  );
}

/**
 * The address to listen on for interface `name`: its first IPv4 address, else its first IPv6
 * one that is not link-local. Throws ApiError `class-interface` when no interface is named, when
 * the name is not an interface of this machine, or when it has no usable address; the hint
 * lists the interfaces.
 */
export function addressOf(
  name: string | undefined,
  all: Interfaces = os.networkInterfaces(),
  /** How the user names one, for the hint: the CLI's option, or the app's list. */
  how = 'with --interface',
): string {
  const hint = `Pick the interface of the classroom's network ${how}: ${listInterfaces(all)}.`;
  if (!name)
    throw new ApiError(
      'class-interface',
      'no interface named: a class listens on one interface, never on all',
      hint,
    );
  const addrs = all[name];
  if (!addrs) throw new ApiError('class-interface', `no interface "${name}" on this machine`, hint);
  const v4 = addrs.find((a) => a.family === 'IPv4');
  const v6 = addrs.find((a) => a.family === 'IPv6' && !a.address.toLowerCase().startsWith('fe80'));
  const pick = v4 ?? v6;
  if (!pick)
    throw new ApiError('class-interface', `interface "${name}" has no address a student can reach`, hint);
  return pick.address;
}

/** One of the machine's interfaces, with its IPv4 addresses (dotted quads; none: IPv6 only). */
export interface NetworkInterface {
  name: string;
  ipv4: string[];
  /** A loopback interface: only this machine reaches it. */
  internal: boolean;
}

/** The machine's interfaces with an address, in the operating system's order. */
export function networkInterfaces(all: Interfaces = os.networkInterfaces()): NetworkInterface[] {
  return Object.entries(all)
    .filter(([, addrs]) => (addrs ?? []).length > 0)
    .map(([name, addrs]) => ({
      name,
      ipv4: (addrs ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address),
      internal: (addrs ?? []).every((a) => a.internal),
    }));
}
