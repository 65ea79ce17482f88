/**
 * Reading the real state a step's checks and measures need, through the API, once per check
 * run (a probe of the whole matrix takes about a second; several checks share it).
 */
import type { DeploymentStatus, LoadReport, PolicyShow, ProbeReport, CountersReport } from '../api/contract';
import type { LabAttacker } from '../api/vocabulary';
import type { LabClient } from './client';
import { execIn } from './client';

/** Schemas that hold at least one table, the system's left out: one a data domain. */
const SCHEMAS_SQL =
  "select distinct schemaname from pg_tables where schemaname not in ('pg_catalog', 'information_schema') order by 1";

/** What `StateReader.domains` found. */
export interface DataDomains {
  workload: string;
  /** "user@host (source)" for each credential found. */
  credentials: string[];
  /** The databases reached (observed by the probes). */
  databases: string[];
  /** Each login tried: which database, with which credential, and the schemas it listed. */
  logins: { database: string; user: string; source: string; ok: boolean; schemas: string[] }[];
  /** The schemas (data domains) readable, sorted. */
  domains: string[];
}
import type { Snapshot } from './progress';
import type { FoundField } from '../api/vocabulary';

/** Lazily read, shared by every check and measure of one run. */
export class StateReader {
  private domainsOf = new Map<string, Promise<DataDomains>>();
  private credentialsOf = new Map<string, Promise<Credential[]>>();

  private status?: Promise<DeploymentStatus>;
  private probe?: Promise<ProbeReport>;
  private policy?: Promise<PolicyShow>;
  private counters?: Promise<CountersReport>;

  constructor(readonly client: LabClient) {}

  deployment(): Promise<DeploymentStatus> {
    return (this.status ??= this.client.call('deploy:status', {}));
  }
  matrix(): Promise<ProbeReport> {
    return (this.probe ??= this.client.call('probe:run', {}));
  }
  policyShow(): Promise<PolicyShow> {
    return (this.policy ??= this.client.call('policy:show', {}));
  }
  counterReport(): Promise<CountersReport> {
    return (this.counters ??= this.client.call('firewall:counters', {}));
  }

  /**
   * The workload an attacker stands in, in the shape that runs now: `jumpbox` is the jumpbox;
   * `catalog-code` is the workload running the catalog's code (the monolith's app `shop`, or
   * the `catalog` service). Throws when nothing runs.
   */
  async attackerWorkload(attacker: LabAttacker): Promise<string> {
    const status = await this.deployment();
    if (!status.deployment) throw new Error('no deployment is running');
    if (attacker === 'jumpbox') return 'jumpbox';
    return status.deployment === 'monolith' ? 'shop' : 'catalog';
  }

  /**
   * The shop's data domains `src` can read: for every database it reaches (observed by the
   * probes), a login tried from inside `src` with each credential it can find where it stands
   * (its main process's environment, its user's ~/.pgpass), and the schemas holding tables
   * that the login lists. Credentials are tried on every database reached, as an attacker
   * would (here every database shares one login: a password reused is a password for all).
   */
  domains(src: string): Promise<DataDomains> {
    let found = this.domainsOf.get(src);
    if (!found) {
      found = this.readDomains(src);
      this.domainsOf.set(src, found);
    }
    return found;
  }

  /** The credentials found where `workload` stands: its main process's environment, its user's ~/.pgpass. */
  credentials(workload: string): Promise<Credential[]> {
    let read = this.credentialsOf.get(workload);
    if (!read) {
      read = execIn(this.client, workload, [
        'sh',
        '-c',
        'tr "\\0" "\\n" < /proc/1/environ 2>/dev/null; cat "$HOME/.pgpass" 2>/dev/null; true',
      ]).then((r) => credentialsIn(r.output));
      this.credentialsOf.set(workload, read);
    }
    return read;
  }

  /** One field of the first credential found where `workload` stands. */
  async found(workload: string, field: FoundField): Promise<string | undefined> {
    return (await this.credentials(workload))[0]?.[field];
  }

  private async readDomains(src: string): Promise<DataDomains> {
    const { databases } = await this.reach(src);
    const credentials = await this.credentials(src);
    const logins: DataDomains['logins'] = [];
    const domains = new Set<string>();
    for (const db of databases)
      for (const c of credentials) {
        // prettier-ignore
        const psql = ['env', `PGPASSWORD=${c.password}`, 'PGCONNECT_TIMEOUT=3', 'psql', '-h', db, '-p', '5432', '-U', c.user, '-d', 'postgres', '-w', '-A', '-t', '-c', SCHEMAS_SQL];
        const listed = await execIn(this.client, src, psql, 30_000);
        const schemas =
          listed.exitCode === 0
            ? listed.output
                .split('\n')
                .map((l) => l.trim())
                .filter(Boolean)
            : [];
        logins.push({ database: db, user: c.user, source: c.source, ok: listed.exitCode === 0, schemas });
        schemas.forEach((x) => domains.add(x));
        if (listed.exitCode === 0) break;
      }
    return {
      workload: src,
      credentials: credentials.map((c) => `${c.user}@${c.host} (${c.source})`),
      databases,
      logins,
      domains: [...domains].sort(),
    };
  }

  /**
   * Workloads reached from `src`, observed by probes from inside its namespace, out of `total`:
   * the other workloads that serve a port (as `microlab blast-radius` counts them).
   */
  async reach(src: string): Promise<{ reached: string[]; databases: string[]; total: number }> {
    const [probe, status] = await Promise.all([this.matrix(), this.deployment()]);
    const names = new Set(status.workloads.map((w) => w.workload));
    if (!names.has(src)) throw new Error(`no workload "${src}" is running`);
    const from = probe.cells.filter((c) => c.src === src && c.dst !== src);
    const reached = [...new Set(from.filter((c) => c.observed === 'connected').map((c) => c.dst))].sort();
    const kinds = new Map(status.workloads.map((w) => [w.workload, w.kind]));
    return {
      reached,
      databases: reached.filter((w) => kinds.get(w) === 'postgres'),
      total: new Set(from.map((c) => c.dst)).size,
    };
  }
}

/** A database login the source holds: from its environment (a URL) or its user's ~/.pgpass. */
export interface Credential {
  user: string;
  password: string;
  /** The host it was written for ("*" in a ~/.pgpass line: any). */
  host: string;
  /** Where it was found: "DATABASE_URL" or "~/.pgpass". */
  source: string;
}

/**
 * The credentials in `text`: postgres:// URLs (an environment) and ~/.pgpass lines
 * (host:port:database:user:password; `\:` escapes a colon). Pure.
 */
export function credentialsIn(text: string): Credential[] {
  const found: Credential[] = [];
  for (const m of text.matchAll(/postgres(?:ql)?:\/\/([^:@\s/]+):([^@\s/]*)@([^:/\s]+)/g))
    found.push({
      user: decodeURIComponent(m[1]!),
      password: decodeURIComponent(m[2]!),
      host: m[3]!,
      source: 'DATABASE_URL',
    });
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) || line.includes('://')) continue;
    const fields = line
      .trim()
      .split(/(?<!\\):/)
      .map((f) => f.replace(/\\:/g, ':'));
    if (fields.length !== 5 || fields.some((f) => f === '')) continue;
    const [host, , , user, password] = fields as [string, string, string, string, string];
    found.push({ user, password, host, source: '~/.pgpass' });
  }
  const seen = new Set<string>();
  return found.filter((c) => {
    const key = `${c.user}\0${c.password}\0${c.host}`;
    return !seen.has(key) && seen.add(key);
  });
}

/** Packets per rule id, summed over every workload (or the perimeter router). */
export function packetsByRule(report: CountersReport): Record<string, number> {
  return Object.fromEntries(report.rules.map((r) => [r.ruleId, r.packets]));
}

/**
 * Packets a rule counted since the snapshot. A policy applied since then reloads the tables and
 * starts the counters at zero; then the count so far is the answer.
 */
export function packetsSince(
  now: Record<string, number>,
  before: Record<string, number>,
  rule: string,
): number {
  const current = now[rule] ?? 0;
  const earlier = before[rule] ?? 0;
  return current >= earlier ? current - earlier : current;
}

/** Reads the state a step starts from. Parts that cannot be read (no deployment yet) stay empty. */
export async function takeSnapshot(client: LabClient): Promise<Snapshot> {
  const at = new Date().toISOString();
  const [status, show, counters] = await Promise.all([
    client.call('deploy:status', {}),
    client.call('policy:show', {}).catch(() => undefined),
    client.call('firewall:counters', {}).catch(() => undefined),
  ]);
  const replicas: Record<string, number> = {};
  const versions: Record<string, string> = {};
  for (const w of status.workloads) {
    replicas[w.workload] = (replicas[w.workload] ?? 0) + 1;
    if (w.version && !(w.workload in versions)) versions[w.workload] = w.version;
  }
  return {
    at,
    ...(status.deployment ? { deployment: status.deployment } : {}),
    ...(status.layout ? { layout: status.layout } : {}),
    replicas,
    versions,
    containers: status.workloads.map((w) => ({
      workload: w.workload,
      container: w.container,
      ...(w.id ? { id: w.id } : {}),
      ...(w.startedAt ? { startedAt: w.startedAt } : {}),
      ...(w.image ? { image: w.image } : {}),
    })),
    ...(show?.source
      ? {
          policy: {
            text: show.source.text,
            file: show.source.file,
            ...(show.source.mode ? { mode: show.source.mode } : {}),
          },
        }
      : {}),
    counters: counters ? packetsByRule(counters) : {},
  };
}

/** The figures of some endpoints of a load report (all of them when none named). */
export function endpointsOf(report: LoadReport, names?: string[], except?: string[]) {
  return report.endpoints.filter(
    (e) =>
      e.endpoint !== 'all' && (!names || names.includes(e.endpoint)) && !(except ?? []).includes(e.endpoint),
  );
}
