/**
 * The labs' tracks (labs/guides/tracks.yaml): named lists of labs a course runs, optionally
 * their core steps only. The instructor's guide is written for one (`class guide --track NAME`);
 * without one it covers every lab, all steps (the track `all`).
 *
 *   tracks:
 *     - { name: workshop, title: The 3-hour workshop, labs: [monolith-flat, …], steps: core }
 */
import { parse } from 'yaml';
import { z } from 'zod';
import type { Lab } from './format';

export const TracksSchema = z.strictObject({
  tracks: z
    .array(
      z.strictObject({
        name: z
          .string()
          .regex(/^[a-z][a-z0-9-]{0,39}$/, 'a track name is lowercase letters, digits and dashes'),
        title: z.string().min(1).max(200),
        labs: z.array(z.string().min(1)).min(1, 'a track names at least one lab'),
        steps: z.enum(['all', 'core']).default('all'),
      }),
    )
    .default([]),
});

export type Track = z.output<typeof TracksSchema>['tracks'][number];

/** The default track: every lab, all steps. */
export function allTrack(labs: Lab[]): Track {
  return { name: 'all', title: 'Every lab', labs: labs.map((l) => l.id), steps: 'all' };
}

/**
 * Parses tracks.yaml's text and checks it against the labs (each named lab exists, names are
 * unique, `all` is reserved). Throws an Error naming the file (`where`) and each problem.
 */
export function parseTracks(text: string, labs: Lab[], where: string): Track[] {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new Error(`${where}: not YAML (${(err as Error).message})`, { cause: err });
  }
  const parsed = TracksSchema.safeParse(raw ?? {});
  if (!parsed.success)
    throw new Error(
      `${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`,
    );
  const ids = new Set(labs.map((l) => l.id));
  const seen = new Set<string>(['all']);
  const problems: string[] = [];
  parsed.data.tracks.forEach((t, i) => {
    if (seen.has(t.name))
      problems.push(
        `tracks.${i}.name: "${t.name}" is ${t.name === 'all' ? 'reserved (every lab)' : 'used twice'}`,
      );
    seen.add(t.name);
    t.labs.forEach((id, j) => {
      if (!ids.has(id)) problems.push(`tracks.${i}.labs.${j}: no lab has the id "${id}"`);
    });
  });
  if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);
  return parsed.data.tracks;
}

/** The track called `name` (`all` or absent: every lab); an unknown name is refused with the known ones. */
export function chooseTrack(tracks: Track[], labs: Lab[], name?: string): Track {
  if (name === undefined || name === 'all') return allTrack(labs);
  const found = tracks.find((t) => t.name === name);
  if (!found)
    throw new Error(`no track "${name}"; known: ${['all', ...tracks.map((t) => t.name)].join(', ')}`);
  return found;
}
