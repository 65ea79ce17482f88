/** Small formatting helpers shared by the cards. */

const KiB = 1024;
const MiB = KiB * 1024;
const GiB = MiB * 1024;

/** Same units as the CLI: 274 MiB, 1.2 GiB. */
export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${Math.round(bytes / MiB)} MiB`;
  return `${Math.round(bytes / KiB)} KiB`;
}

/** "1 container", "3 networks". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
