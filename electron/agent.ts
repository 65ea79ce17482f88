/**
 * The firewall agent's process (an edge, like cli.ts): runs inside the agent container
 * (firewall/agent.ts), bundled into one CommonJS file for the base image's Node.
 *
 * Input (its stdin, the sidecar channel's framing): "BEGIN id", one JSON line of
 * AgentState, "END id"; it stores the state, puts it in force on every pod (loading what
 * changed and cutting the established connections it denies, unless the state keeps them),
 * and answers with its report, "microlab-reply id REPORT-JSON", then "microlab-load id ok".
 * It is the only process that writes a pod's table once the pod runs: whoever applies a
 * policy hands it here and reads the report.
 * Output: one line per reconcile and per engine connection change (its container log).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import readline from 'node:readline';
import Docker from 'dockerode';
import { Enforcer } from './firewall/enforcer';
import type { AgentState } from './firewall/agent';
import type { Policy } from './firewall/policy';
import { watchEnforcer } from './firewall/watcher';

const OPEN: Policy = { mode: 'off', defaultAction: 'allow', segments: [], rules: [] };
const project = process.env.MICROLAB_PROJECT ?? 'microlab';
const stateFile = process.env.MICROLAB_AGENT_STATE ?? '/opt/agent-state.json';

const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);

function readState(): AgentState {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as AgentState;
  } catch {
    return { policy: null, keepEstablished: false };
  }
}

function writeState(state: AgentState): void {
  writeFileSync(`${stateFile}.partial`, JSON.stringify(state));
  renameSync(`${stateFile}.partial`, stateFile);
}

const docker = new Docker();
const enforcer = new Enforcer(docker, project, {
  onReconcile: (report) => {
    if (report instanceof Error) return log(`reconcile failed: ${report.message}`);
    if (report.loaded || report.failed || report.connectionsCut)
      log(
        `reconciled ${report.instances} pods: ${report.loaded} loaded, ${report.failed} failed, ${report.connectionsCut} connections cut in ${report.durationMs} ms` +
          report.tables
            .filter((t) => t.error)
            .map((t) => `; ${t.container}: ${t.error}`)
            .join(''),
      );
  },
});

const state = readState();
void enforcer.apply(state.policy ?? OPEN, { keepEstablished: state.keepEstablished });
watchEnforcer(enforcer, docker, project, {
  pods: true,
  onConnection: (change) =>
    log(
      change.state === 'lost'
        ? `engine connection lost: ${change.reason}`
        : change.state === 'restored'
          ? `engine connection restored after ${change.downMs} ms`
          : 'engine connected',
    ),
  onError: (err) => log(`error: ${err.message}`),
});
log(
  `firewall agent for project ${project} started (policy ${state.policy?.name ?? (state.policy ? 'unnamed' : 'none')})`,
);

let id: string | undefined;
let body: string[] = [];
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  // On Podman a state arrives as a file in a line "LOAD id file"; the answer also goes to
  // "file.ack" (see firewall/sidecar.ts, PODMAN_INPUT).
  if (line.startsWith('LOAD ')) {
    const [, loadId = '', file = ''] = line.split(' ');
    void receive(loadId, readFileSync(file, 'utf8').split('\n')).then((answer) => {
      writeFileSync(`${file}.part`, answer);
      renameSync(`${file}.part`, `${file}.ack`);
      rmSync(file, { force: true });
    });
  } else if (line.startsWith('BEGIN ')) {
    id = line.slice(6);
    body = [];
  } else if (line.startsWith('END ') && id !== undefined) {
    const done = id;
    id = undefined;
    void receive(done, body);
  } else if (id !== undefined) body.push(line);
});

/**
 * Stores a state received (its JSON lines) and puts it in force; resolves with the answer (the
 * report and the load's answer), also written out. The state is stored before anything loads:
 * if this process dies half way, it starts again from the new state.
 */
async function receive(loadId: string, lines: string[]): Promise<string> {
  let answer: string;
  try {
    const next = JSON.parse(lines.join('\n')) as AgentState;
    writeState(next);
    log(`policy ${next.policy?.name ?? (next.policy ? 'unnamed' : 'none')} received`);
    const report = await enforcer.apply(next.policy ?? OPEN, { keepEstablished: next.keepEstablished });
    answer = `microlab-reply ${loadId} ${JSON.stringify(report)}\nmicrolab-load ${loadId} ok\n`;
  } catch (err) {
    answer = `microlab-load ${loadId} failed: ${(err as Error).message.replace(/\n/g, ' ')}\n`;
  }
  process.stdout.write(answer);
  return answer;
}
