/**
 * The labs' tracks (labs/guides/tracks.yaml): named lists of labs a course runs, optionally
 * their core steps only. The instructor's guide is written for one (`class guide --track NAME`);
 * without one it covers every lab, all steps (the track `all`).
 *
 *   tracks:
 *     - { name: workshop, title: The 3-hour workshop, labs: [monolith-flat, …], steps: core }
 */
import { z } from 'zod';
import { readYaml, type PathIssue, type YamlFormat } from '../yaml-file';
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

/** tracks.yaml as the one YAML reader reads it: the schema, then the checks against the labs. */
function tracksFormat(labs: Lab[]): YamlFormat<typeof TracksSchema> {
  const ids = new Set(labs.map((l) => l.id));
  return {
    schema: TracksSchema,
    maxBytes: 64 * 1024,
    noun: 'a tracks file',
    empty: 'the tracks file is empty',
    check: (value) => {
      const seen = new Set<string>(['all']);
      const issues: PathIssue[] = [];
      value.tracks.forEach((t, i) => {
        if (seen.has(t.name))
          issues.push({
            path: ['tracks', i, 'name'],
            message: `"${t.name}" is ${t.name === 'all' ? 'reserved (every lab)' : 'used twice'}`,
          });
        seen.add(t.name);
        t.labs.forEach((id, j) => {
          if (!ids.has(id))
            issues.push({ path: ['tracks', i, 'labs', j], message: `no lab has the id "${id}"` });
        });
      });
      return issues;
    },
  };
}

/**
 * Parses tracks.yaml's text (the file `file`) and checks it against the labs (each named lab
 * exists, names are unique, `all` is reserved). Throws an Error listing every problem at
 * file:line:column.
 */
export function parseTracks(text: string, labs: Lab[], file: string): Track[] {
  const read = readYaml(text, file, tracksFormat(labs));
  if (!read.ok)
    throw new Error(read.issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'));
  return read.value.tracks;
}

/** The track called `name` (`all` or absent: every lab); an unknown name is refused with the known ones. */
export function chooseTrack(tracks: Track[], labs: Lab[], name?: string): Track {
  if (name === undefined || name === 'all') return allTrack(labs);
  const found = tracks.find((t) => t.name === name);
  if (!found)
    throw new Error(`no track "${name}"; known: ${['all', ...tracks.map((t) => t.name)].join(', ')}`);
  return found;
}
