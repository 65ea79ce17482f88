/**
 * The CLI's value checks, one of each kind, used by every command's definition as the parser of
 * an option or an argument. Each returns the value or throws a UsageError naming what was given
 * and what is accepted.
 */
import { LOAD_SCENARIOS } from '../api/contract';
import type { LoadScenario } from '../api/contract';
import { parseArchitectures } from '../engine/arch';
import type { Architecture } from '../engine/arch';

/** Bad input on the command line: exit 2, with this message. */
export class UsageError extends Error {}

/** A whole number from `min` to `max` (digits only). */
export function wholeNumber(what: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max)
      throw new UsageError(
        `${what} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`,
      );
    return n;
  };
}

/** A list of architectures, `amd64,arm64` (aliases such as `aarch64` accepted), in order. */
export function architectureList(text: string): Architecture[] {
  try {
    return parseArchitectures(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * A decimal number from `min` (or above it, with `above`) to `max`; `unit` is named after the
 * range ("cores", "seconds").
 */
export function decimal(
  what: string,
  min: number,
  max: number,
  { above = false, unit }: { above?: boolean; unit?: string } = {},
): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || (above ? n <= min : n < min) || n > max)
      throw new UsageError(
        `${what} must be a number ${above ? `above ${min} and at most` : `from ${min} to`} ${max}${unit ? ` (${unit})` : ''}, not ${JSON.stringify(text)}`,
      );
    return n;
  };
}

/** Text matching `pattern`; `shape` says what is expected ("a DNS label (lower case, digits, -)"). */
export function matching(what: string, pattern: RegExp, shape: string): (text: string) => string {
  return (text) => {
    if (!pattern.test(text)) throw new UsageError(`${what} is ${shape}, not ${JSON.stringify(text)}`);
    return text;
  };
}

/** Text that is not blank. */
export function nonBlank(what: string): (text: string) => string {
  return (text) => {
    if (!text.trim()) throw new UsageError(`${what} must not be blank`);
    return text;
  };
}

/** A workload's name as `microlab status` shows it. */
export const workloadName = matching(
  'WORKLOAD',
  /^[a-z][a-z0-9-]{0,62}$/,
  "a workload's name (like catalog)",
);

/** "30", "30s", "2m" -> seconds, from 1 s to 60 min. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * (match[2] === 'm' ? 60 : 1) : NaN;
  if (!(seconds >= 1 && seconds <= 3600))
    throw new UsageError(`--duration must be from 1s to 60m (30, 30s or 2m), not ${JSON.stringify(text)}`);
  return seconds;
}

/** "browse=10,cart=3,checkout=1" -> weights per scenario (whole numbers 0-1000, one above 0). */
export function parseMix(text: string): Partial<Record<LoadScenario, number>> {
  const mix: Partial<Record<LoadScenario, number>> = {};
  for (const part of text.split(',').filter((p) => p.trim())) {
    const [name = '', weight = ''] = part.trim().split('=');
    if (!(LOAD_SCENARIOS as readonly string[]).includes(name))
      throw new UsageError(
        `--mix: unknown scenario ${JSON.stringify(name)} (use ${LOAD_SCENARIOS.join(', ')})`,
      );
    mix[name as LoadScenario] = wholeNumber(`--mix weight of ${name}`, 0, 1000)(weight);
  }
  if (!Object.values(mix).some((w) => w > 0))
    throw new UsageError('--mix needs a scenario with a weight above 0');
  return mix;
}

/** "2026-01-31T10:00:00Z" -> the same time in ISO form. */
export function parseTime(what: string): (text: string) => string {
  return (text) => {
    if (Number.isNaN(Date.parse(text)))
      throw new UsageError(`${what} must be a time like 2026-01-31T10:00:00Z, not ${JSON.stringify(text)}`);
    return new Date(text).toISOString();
  };
}

/** "5432" or "53/udp" -> port and protocol. */
export function parsePort(text: string): { port: number; protocol: 'tcp' | 'udp' } {
  const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  const port = Number(m?.[1]);
  if (!m || port < 1 || port > 65535)
    throw new UsageError(`PORT must be 1-65535, optionally /tcp or /udp, not ${JSON.stringify(text)}`);
  return { port, protocol: (m[2] ?? 'tcp') as 'tcp' | 'udp' };
}
