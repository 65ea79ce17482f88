/**
 * `microlab export kubernetes`: its grammar, and the API method the CLI and the UI share
 * (through the dispatcher, as every transport calls it; no engine is needed when the shape and
 * the policy are named).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/api/dispatch';
import type { KubernetesExport } from '../../electron/api/export';
import { buildCli, parseCommand } from '../../electron/cli/commands';
import { UsageError } from '../../electron/cli/values';
import { formatStream, runExportCommand } from '../../electron/cli/export';
import { createServices } from '../../electron/services';

const base = {
  name: 'export-kubernetes',
  noPolicy: false,
  rejectAsDeny: false,
  dropLog: false,
  dropMonitor: false,
  inClusterOnly: false,
  apply: false,
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
    ])
      expect(buildCli().usage()).toContain(option);
  });

  it('says --apply is not available, and exports nothing', async () => {
    const chunks: string[] = [];
    const sink = { write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WritableStream;
    let called = false;
    const code = await runExportCommand(
      { ...base, name: 'export-kubernetes', apply: true },
      (async () => {
        called = true;
      }) as never,
      sink,
      sink,
    );
    expect(code).toBe(2);
    expect(called).toBe(false);
    expect(chunks.join('')).toContain('--apply: not available');
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
