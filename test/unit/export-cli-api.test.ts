/**
 * `microlab export kubernetes`: its grammar, and the API method the CLI and the UI share
 * (through the dispatcher, as every transport calls it; no engine is needed when the shape and
 * the policy are named).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/api/dispatch';
import type { KubernetesExport } from '../../electron/api/export';
import { buildCli, parseCommand } from '../../electron/cli/commands';
import { UsageError } from '../../electron/cli/values';
import { applyOrder, formatStream, runExportCommand } from '../../electron/cli/export';
import type { ExportCommand } from '../../electron/cli/export';
import { createServices } from '../../electron/services';

const base = {
  name: 'export-kubernetes',
  noPolicy: false,
  rejectAsDeny: false,
  dropLog: false,
  dropMonitor: false,
  inClusterOnly: false,
  apply: false,
  dryRun: false,
  json: false,
};

describe('export kubernetes: the grammar', () => {
  it.each([
    [['export', 'kubernetes'], base],
    [
      [
        'export',
        'kubernetes',
        '--to',
        'cilium',
        '--namespace',
        'shop',
        '--out',
        'k8s',
        '--drop-log',
        '--in-cluster-only',
      ],
      { ...base, target: 'cilium', namespace: 'shop', out: 'k8s', dropLog: true, inClusterOnly: true },
    ],
    [
      [
        'export',
        'kubernetes',
        '--policy',
        'p.yaml',
        '--deployment',
        'monolith',
        '--registry',
        'r.example:5000',
        '--reject-as-deny',
        '--drop-monitor',
        '--json',
      ],
      {
        ...base,
        policy: 'p.yaml',
        deployment: 'monolith',
        registry: 'r.example:5000',
        rejectAsDeny: true,
        dropMonitor: true,
        json: true,
      },
    ],
    [['export', 'kubernetes', '--apply'], { ...base, apply: true }],
    [['export', 'kubernetes', '--apply', '--dry-run'], { ...base, apply: true, dryRun: true }],
  ])('%j', (argv, expected) => {
    expect(parseCommand(argv)).toEqual(expected);
  });

  it.each([
    [['export'], 'export needs a command: kubernetes'],
    [['export', 'helm'], 'unknown export command "helm"'],
    [['export', 'kubernetes', '--to', 'istio'], 'Allowed choices are calico, cilium, networkpolicy'],
    [['export', 'kubernetes', '--namespace', 'Shop'], '--namespace is a DNS label'],
    [['export', 'kubernetes', '--deployment', 'mesh'], 'Allowed choices are monolith, microservices'],
    [['export', 'kubernetes', '--policy', 'p.yaml', '--no-policy'], 'exclude each other'],
    [['export', 'kubernetes', 'extra'], 'extra'],
    [['export', 'kubernetes', '--dry-run'], '--dry-run goes with --apply'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });

  it("is in the CLI's help with every option", () => {
    for (const option of [
      '--to calico|cilium|networkpolicy',
      '--namespace NS',
      '--out DIR',
      '--reject-as-deny',
      '--drop-log',
      '--drop-monitor',
      '--in-cluster-only',
      '--apply',
      '--dry-run',
    ])
      expect(buildCli().usage()).toContain(option);
  });
});

describe('export:kubernetes over the API', () => {
  const services = createServices({ project: `export-test-${process.pid}` });
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const policy = path.resolve(import.meta.dirname, '../../labs/policies/microservices-segmented.yaml');

  it('refuses what the target cannot express, naming the options', async () => {
    const reply = await dispatch(services.handlers, 'export:kubernetes', {
      deployment: 'microservices',
      file: policy,
      target: 'networkpolicy',
    });
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('export-refused');
    expect(reply.error.message).toContain('log');
    expect(reply.error.hint).toContain('--drop-log');
  });

  it('writes the files under `out` and returns them', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'microlab-export-'));
    dirs.push(out);
    const reply = await dispatch(services.handlers, 'export:kubernetes', {
      deployment: 'microservices',
      file: policy,
      target: 'cilium',
      namespace: 'lab',
      dropLog: true,
      inClusterOnly: true,
      rejectAsDeny: true,
      out,
    });
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    const result = reply.result as KubernetesExport;
    expect(result.written).toContain(path.join(out, 'policy', 'cilium.yaml'));
    expect(await readFile(path.join(out, 'policy', 'cilium.yaml'), 'utf8')).toBe(
      result.files.find((f) => f.name === 'policy/cilium.yaml')!.text,
    );
    expect(formatStream(result)).toContain('# shop/payments-db.yaml\napiVersion: apps/v1\nkind: StatefulSet');
    // The losses accepted are told, with where they bite; an option that waived nothing is not.
    expect(result.notes).toContain(
      'accepted with --in-cluster-only: "any" means the shop\'s own workloads: traffic to or from outside the cluster is denied (gateway)',
    );
    expect(result.notes.some((n) => n.startsWith('accepted with --drop-log'))).toBe(true);
    expect(result.notes.some((n) => n.includes('--reject-as-deny'))).toBe(false);
  });

  it('validates its input at the boundary', async () => {
    const reply = await dispatch(services.handlers, 'export:kubernetes', { target: 'istio' });
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error.code).toBe('invalid-input');
  });
});

/**
 * --apply without a cluster: no cluster is faked here. What is tested is what happens on every
 * machine without one: no kubeconfig, a kubeconfig that cannot be read, and one whose server
 * does not answer; each said clearly, exit 1, nothing applied.
 */
describe('export kubernetes --apply, where there is no cluster', () => {
  const services = createServices({ project: `export-apply-test-${process.pid}` });
  const call = (async (method: string, input: unknown) => {
    const reply = await dispatch(services.handlers, method as never, input);
    if (!reply.ok) throw new Error(reply.error.message);
    return reply.result;
  }) as never;
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const home = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-kube-'));
    dirs.push(dir);
    return dir;
  };
  const run = async (
    command: Partial<ExportCommand>,
    env: NodeJS.ProcessEnv,
    homeDir: string,
    exportCall: unknown = call,
  ) => {
    const chunks: string[] = [];
    const sink = { write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WritableStream;
    const code = await runExportCommand(
      {
        ...base,
        name: 'export-kubernetes',
        deployment: 'microservices',
        target: 'networkpolicy',
        noPolicy: true,
        apply: true,
        ...command,
      },
      exportCall as never,
      sink,
      sink,
      { env, home: homeDir },
    );
    return { code, text: chunks.join('') };
  };
  const kubeconfig = (server: string) => `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: ${server}
    insecure-skip-tls-verify: true
users:
- name: student
  user:
    token: not-a-secret
contexts:
- name: lab
  context:
    cluster: lab
    user: student
current-context: lab
`;

  it('without a kubeconfig: says what to set, exit 1, exports and sends nothing', async () => {
    let called = false;
    const dir = await home();
    const { code, text } = await run({}, {}, dir, async () => {
      called = true;
    });
    expect(code).toBe(1);
    expect(called).toBe(false);
    expect(text).toContain('no kubeconfig');
    expect(text).toContain(path.join(dir, '.kube', 'config'));
    expect(text).toContain('Set KUBECONFIG');
    expect(text).toContain('nothing was applied');
  });

  it('with KUBECONFIG naming a file that does not exist: says so, exit 1', async () => {
    const dir = await home();
    const missing = path.join(dir, 'nowhere.yaml');
    const { code, text } = await run({ dryRun: true }, { KUBECONFIG: missing }, dir);
    expect(code).toBe(1);
    expect(text).toContain(`KUBECONFIG names ${missing}, and no such file exists`);
  });

  it('with a malformed kubeconfig (~/.kube/config): names the file, exit 1, nothing applied', async () => {
    const dir = await home();
    await mkdir(path.join(dir, '.kube'));
    const file = path.join(dir, '.kube', 'config');
    await writeFile(file, 'clusters: [\n  - name: lab\n    cluster: {server: \n');
    const { code, text } = await run({}, {}, dir);
    expect(code).toBe(1);
    expect(text).toContain(`kubeconfig ${file} cannot be read`);
    expect(text).toContain('nothing was applied');
  });

  it('with a kubeconfig whose current context is not among its contexts: says which, exit 1', async () => {
    const dir = await home();
    const file = path.join(dir, 'config');
    await writeFile(
      file,
      kubeconfig('https://127.0.0.1:1').replace('current-context: lab', 'current-context: prod'),
    );
    const { code, text } = await run({}, { KUBECONFIG: file }, dir);
    expect(code).toBe(1);
    expect(text).toContain('its current context "prod" is not among its contexts');
  });

  it('with a server that does not answer (127.0.0.1, a closed port): reported with the address, exit 1, nothing applied', async () => {
    // A port that was free a moment ago: bound by the system, then closed.
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const dir = await home();
    const file = path.join(dir, 'config');
    await writeFile(file, kubeconfig(`https://127.0.0.1:${port}`));
    for (const dryRun of [false, true]) {
      const { code, text } = await run({ dryRun }, { KUBECONFIG: file }, dir);
      expect(code).toBe(1);
      expect(text).toContain(`cannot reach the cluster of context "lab" at https://127.0.0.1:${port}`);
      expect(text).toContain('ECONNREFUSED');
      expect(text).toContain('nothing was applied');
      expect(text).not.toContain('Applied');
    }
  });

  it('applies the namespace first, then the policy (the tier before its policies), then the shop', async () => {
    const reply = await dispatch(services.handlers, 'export:kubernetes', {
      deployment: 'microservices',
      file: path.resolve(import.meta.dirname, '../../labs/policies/microservices-segmented.yaml'),
      target: 'calico',
    });
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    const kinds = applyOrder(reply.result as KubernetesExport).map((o) => o.kind);
    expect(kinds[0]).toBe('Namespace');
    expect(kinds.indexOf('Tier')).toBeLessThan(kinds.indexOf('NetworkPolicy'));
    expect(kinds.indexOf('Deployment')).toBeGreaterThan(kinds.lastIndexOf('NetworkPolicy'));
    expect(kinds.indexOf('StatefulSet')).toBeGreaterThan(kinds.lastIndexOf('NetworkPolicy'));
    expect(kinds.indexOf('Service')).toBeGreaterThan(kinds.lastIndexOf('NetworkPolicy'));
  });
});
