/**
 * One fault, one exit code: a policy file that does not validate gives the same lines and the
 * same code from `policy validate` and from `policy apply` (which then changes nothing; it
 * fails before anything reaches the engine).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'microlab-cli-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stream() {
  let text = '';
  return {
    stream: {
      isTTY: false,
      write: (chunk: string) => ((text += chunk), true),
    } as unknown as never,
    text: () => text,
  };
}

async function run(args: string[]) {
  const out = stream();
  const err = stream();
  const code = await main(args, out.stream, err.stream);
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('policy exit codes', () => {
  it('validate and apply of an invalid file exit 1, with the same file:line:column lines', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'segments:\n  web: { selector: {} }\nrules:\n  - { id: a, from: [], to: any, action: allow }\n',
    );
    const validate = await run(['policy', 'validate', file]);
    const apply = await run(['policy', 'apply', file]);
    expect(validate.code).toBe(1);
    expect(apply.code).toBe(1);
    const lines = [
      `${file}:2:20: a selector needs at least one label`,
      `${file}:4:20: "from" needs at least one peer (use any for every peer)`,
    ];
    expect(validate.stderr).toBe(lines.map((l) => `${l}\n`).join(''));
    expect(apply.stderr.split('\n').slice(0, 2)).toEqual(lines);
    expect(apply.stderr).toContain('hint: Fix the policy file; the policy in force stays as it was.');
    expect(apply.stdout).toBe('');
  });

  it('a usage error still exits 2', async () => {
    expect((await run(['policy', 'apply'])).code).toBe(2);
  });
});
