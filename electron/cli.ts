/**
 * `microlab`: the headless CLI over the same services the app uses, called in process
 * through the same dispatcher (so input is validated exactly as over IPC or WebSocket).
 * Each command is defined once, in electron/cli/ (see commands.ts).
 */
import { ApiError } from './errors';
import { parse } from './cli/commands';
import type { Parsed } from './cli/program';
import { UsageError } from './cli/values';
import { createRuntime } from './cli/runtime';

/**
 * Exit codes: 0 fine, 1 a check or task failed (a policy that does not validate, whether
 * validated or applied; an export a target refuses), 2 usage or engine error, 130 canceled.
 */
export async function main(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    // The one line that says what is wrong stays in sight; the full usage is one command away.
    err.write(`microlab: ${e.message}\nRun \`microlab help\` for every command and its options.\n`);
    return 2;
  }
  // Help and version need no services.
  if (parsed.value.name === 'help' || parsed.value.name === 'version')
    return parsed.run({ out, err } as unknown as Parameters<Parsed['run']>[0]);

  try {
    return await parsed.run(createRuntime(out, err));
  } catch (e) {
    const error = e instanceof ApiError ? e : new ApiError('internal', (e as Error).message);
    if (error.code === 'export-refused') {
      // A refusal is an answer, not a fault: each construct on its line, the options that accept the losses.
      err.write(`microlab: refused:\n${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
      return 1;
    }
    if (error.code === 'policy-invalid') {
      // The same lines and the same code as `policy validate`: one fault, one answer.
      err.write(`${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
      return 1;
    }
    err.write(`microlab: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
    return 2;
  }
}
