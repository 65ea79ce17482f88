/**
 * `microlab class host` and `microlab class join`: the live class at the command line (the
 * protocol, the host and the client are in electron/class/).
 *
 * The join code carries the class token, so `class join` never takes it as an argument (a
 * process list shows arguments to every user of the machine): it reads it from standard input
 * (pasted at the prompt, or piped) or from MICROLAB_CLASS_CODE.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { MethodInput, MethodName, MethodOutput } from '../api/contract';
import { ApiError } from '../errors';
import { ClassClient, type DoctorResult } from '../class/client';
import { decodeJoinCode } from '../class/protocol';
import { classJoinDir, labsProgressFile } from '../services/class-seed';
import { CLASS_END_GRACE_MS, DEFAULT_CLASS_PORT, joinCodeQr, openClassHost } from '../services/class-host';
import type { Cli, Runtime } from './program';
import { nonBlank, UsageError, wholeNumber } from './values';
import { sleep } from '../wait';

export type ClassLiveCommand =
  | { name: 'class-host'; iface?: string; port: number; autoApprove: boolean; fresh: boolean }
  | { name: 'class-join'; doctor: boolean }
  | { name: 'class-catch-up'; id?: string };

/**
 * Defines `class host` and `class join` under the `class` group (defined with the class's
 * other commands in lab.ts).
 */
export function classLiveCommands(cli: Cli): void {
  const klass = cli.find(['class']);
  if (!klass) throw new Error('the class group is defined before its live commands');
  cli
    .command(
      klass,
      'host',
      "hosts a live class on one interface (HTTPS, a certificate made for the class): prints the join code, its QR code and the dashboard's address; approve joins at its prompt (approve s1) or on the dashboard. Again after a restart: the same class, from its store",
    )
    .option(
      '--interface <IF>',
      "the classroom network's interface (never every interface)",
      nonBlank('--interface'),
    )
    .option('--port <N>', 'the port (default 8443; 0 takes a free one)', wholeNumber('--port', 0, 65535))
    .option('--auto-approve', 'approve every join without asking')
    .option('--new', 'start a new class even if one is in progress')
    .action((o) =>
      cli.done(
        {
          name: 'class-host',
          ...(o.interface !== undefined ? { iface: o.interface } : {}),
          port: o.port ?? DEFAULT_CLASS_PORT,
          autoApprove: Boolean(o.autoApprove),
          fresh: Boolean(o.new),
        },
        (c, rt) => runClassLive(c, context(rt)),
      ),
    );
  const join = cli
    .command(
      klass,
      'join',
      "joins the class whose code is on standard input (pasted or piped) or in MICROLAB_CLASS_CODE, and sends your lab progress and the doctor's result as they happen",
    )
    // Declared only to refuse a code with the reason, so the synopsis and help leave it out.
    .argument('[CODE]')
    .usage('[options]')
    .configureHelp({ visibleArguments: () => [] })
    .option('--no-doctor', "do not send the doctor's result")
    .action((code, o) => {
      if (code !== undefined)
        throw new UsageError(
          'class join takes no code as an argument (it holds the class token, and process lists show arguments): paste it at the prompt, pipe it (`microlab class join < code.txt`) or set MICROLAB_CLASS_CODE',
        );
      cli.done({ name: 'class-join', doctor: o.doctor !== false }, (c, rt) => runClassLive(c, context(rt)));
    });
  // `microlab help` lists it without the CODE declared above only to be refused.
  cli.synopsis(join, 'class join [--no-doctor]');
  join.usage('[options]');
  cli
    .command(
      klass,
      'catch-up',
      "accepts the instructor's suggestion ID to catch up to a step (runs `lab start LAB --step N` and tells the class); without ID, lists the suggestions",
    )
    .argument('[ID]', 'a suggestion, as `class join` printed it (c1, c2...)')
    .action((id) =>
      cli.done({ name: 'class-catch-up', ...(id !== undefined ? { id } : {}) }, async (c, rt) => {
        const info = await rt.call('student:get', {});
        const client = new ClassClient({
          dir: classJoinDir(rt.services.project),
          progressFile: labsProgressFile(rt.services.project),
          student: info.student ?? { name: '?' },
        });
        await client.load();
        if (c.id === undefined) {
          const all = client.status().catchUps;
          rt.out.write(
            all.length
              ? all
                  .map(
                    (x) =>
                      `${x.id}  step ${x.step} of ${x.lab}  ${x.student ? 'to you' : 'to the room'}  ${x.accepted ? `accepted ${x.accepted}` : 'not accepted'}\n`,
                  )
                  .join('')
              : 'The instructor has suggested no catch-up.\n',
          );
          return 0;
        }
        const chosen = client.suggestion(c.id);
        rt.out.write(`Starting ${chosen.lab} at step ${chosen.step} (catch-up ${chosen.id})...\n`);
        const code = await rt.follow(() => rt.call('labs:start', { lab: chosen.lab, step: chosen.step }));
        // Only a lab that stands at the step is a catch-up the class may count.
        if (code !== 0) {
          rt.err.write(
            `Not accepted: the lab did not start, so the class is not told ${chosen.id} was accepted.\n`,
          );
          return code;
        }
        await client.accept(chosen.id);
        rt.out.write(
          `Accepted ${chosen.id}: the class learns it with your next events (\`microlab class join\` sends them).\n`,
        );
        return 0;
      }),
    );
}

function context(rt: Runtime): ClassLiveContext {
  return { project: rt.services.project, call: rt.call, stdin: process.stdin, out: rt.out, err: rt.err };
}

type Call = <M extends MethodName>(method: M, input: MethodInput<M>) => Promise<MethodOutput<M>>;

export interface ClassLiveContext {
  project: string;
  call: Call;
  stdin: Readable & { isTTY?: boolean };
  out: Writable;
  err: Writable;
}

async function readAll(stdin: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) text += chunk.toString();
  return text;
}

/** Resolves on SIGINT/SIGTERM (removing its handlers). */
function untilSignal(): { done: Promise<string>; dispose: () => void } {
  let dispose = () => undefined as void;
  const done = new Promise<string>((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    const int = on('SIGINT');
    const term = on('SIGTERM');
    process.once('SIGINT', int);
    process.once('SIGTERM', term);
    dispose = () => {
      process.off('SIGINT', int);
      process.off('SIGTERM', term);
    };
  });
  return { done, dispose };
}

export async function runClassLive(
  command: Extract<ClassLiveCommand, { name: 'class-host' | 'class-join' }>,
  ctx: ClassLiveContext,
): Promise<number> {
  return command.name === 'class-host' ? classHost(command, ctx) : classJoin(command, ctx);
}

async function classHost(
  command: Extract<ClassLiveCommand, { name: 'class-host' }>,
  ctx: ClassLiveContext,
): Promise<number> {
  const { out, err } = ctx;
  const { store, host, resumed } = await openClassHost({
    project: ctx.project,
    ...(command.iface !== undefined ? { iface: command.iface } : {}),
    port: command.port,
    autoApprove: command.autoApprove,
    fresh: command.fresh,
    onNotice: (line) => err.write(`${line}\n`),
  });
  const code = host.joinCode();
  const c = store.data.class;
  out.write(
    `${resumed ? 'Class picked up again' : 'Class started'} on ${c.interface} (${c.address}), port ${c.port}: ${store.data.students.length} students so far.\n\n` +
      `Join code (students: \`microlab class join\`, then paste it):\n\n${code}\n\n` +
      (await joinCodeQr(code, 'terminal')) +
      `\nCertificate SHA-256: ${store.data.fingerprint}\n` +
      `Dashboard (keep this address to yourself: it holds your token): ${host.dashboardUrl()}\n` +
      `Commands: approve KEY, revoke KEY, list, message TEXT, release LAB, catch-up LAB STEP [KEY] (no KEY: the room), end (ends the class), Ctrl-C (stops hosting; \`class host\` picks the class up again)\n`,
  );
  const signal = untilSignal();
  let ended = false;
  const prompt = createInterface({ input: ctx.stdin, terminal: false });
  const commands = new Promise<void>((resolve) => {
    prompt.on('line', (line) => {
      const [verb, ...rest] = line.trim().split(/\s+/);
      const arg = rest.join(' ');
      const run = async () => {
        if (!verb) return;
        if (verb === 'approve') await host.approve(arg);
        else if (verb === 'revoke') await host.revoke(arg);
        else if (verb === 'message') await host.message(arg);
        else if (verb === 'release') out.write(`released: ${(await host.release(arg)).join(', ')}\n`);
        else if (verb === 'catch-up') {
          const [lab, step, key] = rest;
          if (!lab || !step || !/^[0-9]+$/.test(step))
            throw new Error('catch-up LAB STEP [KEY]: a lab and a step number');
          const c = await host.suggest(lab, Number(step), key);
          out.write(`suggested ${c.id} to ${key ?? 'the room'}\n`);
        } else if (verb === 'list')
          for (const s of host.dashboard().students)
            out.write(
              `${s.key}  ${s.state.padEnd(8)}  ${s.name}${s.id ? ` (${s.id})` : ''}  ${s.lab ?? '-'} ${s.step ?? ''}\n`,
            );
        else if (verb === 'end') {
          await host.end();
          ended = true;
          resolve();
        } else
          out.write(
            `unknown command "${verb}": approve KEY, revoke KEY, list, message TEXT, release LAB, catch-up LAB STEP [KEY], end\n`,
          );
      };
      run().catch((e: unknown) => err.write(`${e instanceof Error ? e.message : String(e)}\n`));
    });
  });
  await Promise.race([signal.done, commands]);
  signal.dispose();
  prompt.close();
  // Ended: the students learn it from their next answer (they ask every second).
  if (ended) await sleep(CLASS_END_GRACE_MS);
  await host.stop();
  out.write(
    ended ? 'The class ended.\n' : 'Stopped hosting: `microlab class host` picks the class up again.\n',
  );
  return 0;
}

async function classJoin(
  command: Extract<ClassLiveCommand, { name: 'class-join' }>,
  ctx: ClassLiveContext,
): Promise<number> {
  const { out, err, call } = ctx;
  const info = await call('student:get', {});
  if (!info.student)
    throw new ApiError(
      'class-no-name',
      'no student name is set: the instructor would not know who joins',
      'Set yours first: `microlab student set "Your Name" [--id ID]` (or MICROLAB_STUDENT).',
    );
  let text = process.env.MICROLAB_CLASS_CODE ?? '';
  if (!text) {
    if (ctx.stdin.isTTY) {
      const rl = createInterface({ input: ctx.stdin, output: out });
      text = await new Promise<string>((resolve) =>
        rl.question('Join code (empty: the class joined before): ', resolve),
      );
      rl.close();
    } else text = await readAll(ctx.stdin);
  }
  const client = new ClassClient({
    dir: classJoinDir(ctx.project),
    progressFile: labsProgressFile(ctx.project),
    student: info.student,
    ...(command.doctor
      ? {
          doctor: async (): Promise<DoctorResult> => {
            const report = await call('engine:doctor', {});
            return {
              ready: report.ok,
              failing: report.checks.filter((c) => c.status === 'fail').map((c) => c.id),
            };
          },
        }
      : {}),
    onNotice: (line) => out.write(`${line}\n`),
  });
  const code = text.trim() ? decodeJoinCode(text) : undefined;
  const release = await client.hold();
  const ac = new AbortController();
  const signal = untilSignal();
  void signal.done.then(() => ac.abort());
  try {
    await client.load(code);
    await client.join(ac.signal);
    out.write(
      'Sending your lab progress as it happens (Ctrl-C stops; `microlab class join` again resumes).\n',
    );
    await client.run(ac.signal);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'canceled') return 130;
    throw e;
  } finally {
    signal.dispose();
    await release();
  }
  if (client.pending)
    err.write(`${client.pending} events not sent yet: \`microlab class join\` again sends them.\n`);
  return 0;
}
