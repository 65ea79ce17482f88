/**
 * The two deployments of the shop, as data. The apply engine (apply.ts) turns one of these
 * into networks and containers, and compose.ts writes the same declaration as a compose
 * file (for comparison). Nothing here talks to Docker.
 *
 * Both deployments use the same image and the same two networks:
 *   lab  : internal (no route out); every workload is on it;
 *   edge : the one network with a published port (127.0.0.1 only), masquerade off, so lab
 *          traffic never leaves the machine. Only the storefront's workload joins it.
 *
 * Beside the shop, both deployments hold the neighbours every data centre has (below): an
 * operator's jumpbox and a reporting job. A segment is isolated *from* something.
 */
import type { DeploymentName, Layout, WorkloadKind } from './types';
import type { PortSpec } from './workload';

export interface HealthCheck {
  /** Docker's HEALTHCHECK test, e.g. ['CMD', 'curl', ...]. */
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface Resources {
  memoryMb: number;
  cpus: number;
  pids: number;
  /**
   * CPU weight when the host is short of CPU (Docker's CpuShares; default 1024): the front
   * door every request crosses gets FRONT_DOOR_CPU_SHARES, so that on a busy laptop a capacity
   * measurement finds the replicas' limit, not the one container all requests share.
   */
  cpuShares?: number;
}

/** The CPU weight of a front door (the gateway, the monolith's balancer) and of the load generator. */
export const FRONT_DOOR_CPU_SHARES = 4096;

export interface NetworkSpec {
  /** Short name; the Docker network is `${project}-${name}`. */
  name: string;
  internal: boolean;
}

export interface WorkloadSpec {
  /** Shared by replicas, and the DNS name callers use (a network alias). */
  name: string;
  /** What the container runs: the shop in a role, Postgres, or a tool box that runs nothing (the jumpbox). */
  kind: WorkloadKind;
  /** Selector labels (app, service, tier, segment): what policies select on. */
  labels: Record<string, string>;
  ports: PortSpec[];
  networks: string[];
  env: Record<string, string>;
  user?: string;
  command?: string[];
  resources: Resources;
  health: HealthCheck;
  /** Workloads that must be running before this one starts. */
  dependsOn: string[];
  replicas: number;
  /** Whether `scale` may change the number of replicas. */
  scalable: boolean;
  /** A container port published on 127.0.0.1 (the storefront). */
  publish?: number;
  /**
   * The storefront's workload may still scale: past one replica a load balancer takes its
   * published port and its storefront name, and the replicas share its DNS name behind it
   * (balancer.ts). The monolith's app, which scales only as a whole.
   */
  balanced?: boolean;
  /** Fixed IPv4 addresses by network, and hosts-file entries ("name:address"): the perimeter layout's. */
  addresses?: Record<string, string>;
  extraHosts?: string[];
}

export interface Deployment {
  name: DeploymentName;
  /** flat: one lab network, firewalls per workload; perimeter: a network per segment and one router. */
  layout: Layout;
  /** The workload that serves the storefront and /api. */
  entry: string;
  /** The modules of the app, by the workload that runs each (for `upgrade`). */
  modules: Record<string, string>;
  networks: NetworkSpec[];
  workloads: WorkloadSpec[];
}

export const APP_PORT = 8080;
export const POSTGRES_PORT = 5432;
/** Where the storefront is published by default. */
export const DEFAULT_STOREFRONT_PORT = 8480;
/** The name the entry workload has on the edge network, in both deployments. */
export const STOREFRONT_ALIAS = 'storefront';
export const MODULES = ['catalog', 'cart', 'orders', 'payments', 'users'] as const;
export type Module = (typeof MODULES)[number];

const NETWORKS: NetworkSpec[] = [
  { name: 'lab', internal: true },
  { name: 'edge', internal: false },
];

const appHealth: HealthCheck = {
  test: ['CMD', 'curl', '-fsS', '-o', '/dev/null', '-m', '2', `http://127.0.0.1:${APP_PORT}/readyz`],
  intervalMs: 2000,
  timeoutMs: 2000,
  retries: 3,
  startPeriodMs: 30_000,
};

const postgresHealth: HealthCheck = {
  test: [
    'CMD',
    'pg_isready',
    '-q',
    '-h',
    '127.0.0.1',
    '-p',
    String(POSTGRES_PORT),
    '-U',
    'shop',
    '-d',
    'postgres',
  ],
  intervalMs: 2000,
  timeoutMs: 2000,
  retries: 3,
  startPeriodMs: 30_000,
};

/**
 * The deployment's database password, as a declaration writes it: each container gets the real
 * value when it is created (secret.ts: one random password per deployment, so that students'
 * answers differ). Every database accepts it for the one login, `shop`.
 */
export const DB_PASSWORD = '{{db-password}}';
/** What deployments created before the per-deployment password used (and keep using). */
export const LEGACY_DB_PASSWORD = 'shop';
const DATA_DIR = '/var/lib/microlab/postgres';

/** `text` with DB_PASSWORD replaced by the deployment's password. */
export function withPassword(text: string, password: string): string {
  return text.split(DB_PASSWORD).join(password);
}

const databaseUrl = (host: string) => `postgres://shop:${DB_PASSWORD}@${host}:${POSTGRES_PORT}/postgres`;

function postgres(name: string, labels: Record<string, string>): WorkloadSpec {
  return {
    name,
    kind: 'postgres',
    labels: { app: 'shop', tier: 'db', ...labels },
    ports: [{ port: POSTGRES_PORT, protocol: 'tcp' }],
    networks: ['lab'],
    env: { MICROLAB_DB_PASSWORD: DB_PASSWORD },
    user: 'postgres',
    // The image's login is shop/shop: the deployment's password is set (single-user mode, before
    // the server listens) each time the database starts, then the server runs as PID 1.
    command: [
      'sh',
      '-c',
      `printf "ALTER ROLE shop PASSWORD '%s';\\n" "$MICROLAB_DB_PASSWORD" | postgres --single -D ${DATA_DIR} postgres >/dev/null && exec postgres -D ${DATA_DIR}`,
    ],
    resources: { memoryMb: 128, cpus: 1, pids: 100 },
    health: postgresHealth,
    dependsOn: [],
    replicas: 1,
    scalable: false,
  };
}

function app(
  name: string,
  role: string,
  labels: Record<string, string>,
  extra: Partial<WorkloadSpec> = {},
): WorkloadSpec {
  return {
    name,
    kind: 'app',
    labels: { app: 'shop', ...labels },
    ports: [{ port: APP_PORT, protocol: 'tcp' }],
    networks: ['lab'],
    env: { SHOP_ROLE: role, SHOP_VERSION: '1', NODE_OPTIONS: '--max-old-space-size=96' },
    resources: { memoryMb: 192, cpus: 1, pids: 100 },
    health: appHealth,
    dependsOn: [],
    replicas: 1,
    scalable: false,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------
/*
 * The shop's neighbours, present in both deployments: what a real data centre holds beside
 * the application, and what a segment is isolated *from*.
 *
 *   jumpbox    (tier ops)       an operator's machine: curl, nc, psql and nft installed (all in
 *                               the base image), runs nothing (sleep). Where an operator checks
 *                               the app's health on port 8080, and the attacker's foothold in the
 *                               labs (a stolen operator laptop). It serves no port.
 *   reporting  (tier analytics) a job from the shop's codebase (SHOP_ROLE=reporting) that reads
 *                               the order totals from the workload owning the orders every few
 *                               seconds, on port 8080 (`GET /internal/orders/totals`), and logs a
 *                               line; its health check is ready only while its last call worked.
 *
 * Both carry selector labels like the rest (app, service, tier, segment). Their `dependsOn`
 * is the one workload each legitimately calls, so the call graph shows those flows.
 */

export const JUMPBOX = 'jumpbox';
export const REPORTING = 'reporting';

/** The tools an operator (and an attacker) expects on the jumpbox; its health check finds each. */
export const JUMPBOX_TOOLS = ['curl', 'nc', 'psql', 'nft'] as const;

const jumpboxHealth: HealthCheck = {
  test: ['CMD', 'sh', '-c', JUMPBOX_TOOLS.map((t) => `command -v ${t} >/dev/null`).join(' && ')],
  intervalMs: 5000,
  timeoutMs: 2000,
  retries: 3,
  startPeriodMs: 10_000,
};

/** Where the jumpbox's operator files live (its HOME). */
export const OPERATOR_HOME = '/tmp/operator';

/**
 * The operator's saved database logins on the jumpbox (~/.pgpass: host:port:database:user:password)
 * and the shell history that used them: what an attacker who stole the laptop finds there. The
 * operator administers every database of the shop, so the file names each of them.
 */
export function operatorFiles(databases: string[], storefront: string): string {
  const quote = (line: string) => `'${line.replace(/'/g, `'\\''`)}'`;
  const pgpass = databases.map((db) => `${db}:${POSTGRES_PORT}:*:shop:${DB_PASSWORD}`);
  const history = [
    `curl -s http://${storefront}:${APP_PORT}/healthz`,
    ...databases.map((db) => `psql -h ${db} -U shop postgres -c 'select count(*) from pg_stat_activity'`),
  ];
  return [
    'umask 077',
    'mkdir -p "$HOME"',
    `printf '%s\\n' ${pgpass.map(quote).join(' ')} > "$HOME/.pgpass"`,
    `printf '%s\\n' ${history.map(quote).join(' ')} > "$HOME/.bash_history"`,
  ].join('; ');
}

/**
 * The jumpbox in `segment` (its `segment` label: where the perimeter layout puts it); `reaches`
 * is the workload whose port 8080 an operator checks (the storefront's); `databases` those the
 * operator's ~/.pgpass names.
 */
export function jumpbox({
  segment,
  reaches,
  databases,
}: {
  segment: string;
  reaches: string;
  databases: string[];
}): WorkloadSpec {
  return {
    name: JUMPBOX,
    kind: 'tool',
    labels: { app: 'ops', service: JUMPBOX, tier: 'ops', segment },
    ports: [],
    networks: ['lab'],
    // The operator's home: the image's user owns nothing else it could write to.
    env: { HOME: OPERATOR_HOME },
    // Writes the operator's files, then runs nothing; stops at once on SIGTERM (a bare `sleep`
    // as PID 1 would ignore it).
    command: [
      'sh',
      '-c',
      `${operatorFiles(databases, reaches)}; trap "exit 0" TERM INT; sleep infinity & wait`,
    ],
    resources: { memoryMb: 64, cpus: 1, pids: 100 },
    health: jumpboxHealth,
    dependsOn: [reaches],
    replicas: 1,
    scalable: false,
  };
}

/** The reporting job in `segment`; `ordersOwner` is the workload serving the order totals. */
export function reporting({ segment, ordersOwner }: { segment: string; ordersOwner: string }): WorkloadSpec {
  return app(
    REPORTING,
    'reporting',
    { service: REPORTING, tier: 'analytics', segment },
    {
      env: {
        SHOP_ROLE: 'reporting',
        SHOP_VERSION: '1',
        NODE_OPTIONS: '--max-old-space-size=48',
        REPORT_URL: `http://${ordersOwner}:${APP_PORT}/internal/orders/totals`,
        REPORT_EVERY_MS: '3000',
      },
      resources: { memoryMb: 96, cpus: 1, pids: 100 },
      health: appHealth,
      dependsOn: [ordersOwner],
    },
  );
}

export const monolith: Deployment = {
  name: 'monolith',
  layout: 'flat',
  entry: 'shop',
  modules: Object.fromEntries(MODULES.map((m) => [m, 'shop'])),
  networks: NETWORKS,
  workloads: [
    app(
      'shop',
      'monolith',
      { service: 'shop', tier: 'app', segment: 'app' },
      {
        networks: ['lab', 'edge'],
        env: {
          SHOP_ROLE: 'monolith',
          SHOP_VERSION: '1',
          NODE_OPTIONS: '--max-old-space-size=128',
          DATABASE_URL: databaseUrl('shop-db'),
        },
        resources: { memoryMb: 256, cpus: 1, pids: 100 },
        dependsOn: ['shop-db'],
        publish: APP_PORT,
        // It scales only as a whole, behind a load balancer (topology/balancer.ts).
        scalable: true,
        balanced: true,
      },
    ),
    postgres('shop-db', { service: 'shop', segment: 'data' }),
    jumpbox({ segment: 'app', reaches: 'shop', databases: ['shop-db'] }),
    reporting({ segment: 'app', ordersOwner: 'shop' }),
  ],
};

const SEGMENT: Record<Module, string> = {
  catalog: 'shop',
  cart: 'shop',
  orders: 'shop',
  users: 'identity',
  payments: 'pci',
};

/** Who calls whom: gateway -> users, catalog, cart, orders; cart -> catalog; orders -> cart, catalog, payments. */
const CALLS: Record<Module, Module[]> = {
  catalog: [],
  cart: ['catalog'],
  orders: ['cart', 'catalog', 'payments'],
  payments: [],
  users: [],
};

export const microservices: Deployment = {
  name: 'microservices',
  layout: 'flat',
  entry: 'gateway',
  modules: Object.fromEntries(MODULES.map((m) => [m, m])),
  networks: NETWORKS,
  workloads: [
    app(
      'gateway',
      'gateway',
      { service: 'gateway', tier: 'web', segment: 'edge' },
      {
        networks: ['lab', 'edge'],
        dependsOn: ['catalog', 'cart', 'orders', 'users'],
        publish: APP_PORT,
        resources: { memoryMb: 192, cpus: 1, pids: 100, cpuShares: FRONT_DOOR_CPU_SHARES },
      },
    ),
    ...MODULES.flatMap((m) => [
      app(
        m,
        m,
        { service: m, tier: 'api', segment: SEGMENT[m] },
        {
          env: {
            SHOP_ROLE: m,
            SHOP_VERSION: '1',
            NODE_OPTIONS: '--max-old-space-size=64',
            DATABASE_URL: databaseUrl(`${m}-db`),
          },
          resources: { memoryMb: 128, cpus: 1, pids: 100 },
          dependsOn: [`${m}-db`, ...CALLS[m]],
          scalable: true,
        },
      ),
      postgres(`${m}-db`, { service: m, segment: SEGMENT[m] }),
    ]),
    jumpbox({ segment: 'shop', reaches: 'gateway', databases: MODULES.map((m) => `${m}-db`) }),
    reporting({ segment: 'shop', ordersOwner: 'orders' }),
  ],
};

export const deployments: Record<DeploymentName, Deployment> = { monolith, microservices };

/** Problems in a declaration (empty when it is sound): unknown networks or dependencies, cycles, duplicates. */
export function validateDeployment(d: Deployment): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const networks = new Set(d.networks.map((n) => n.name));
  for (const w of d.workloads) {
    if (names.has(w.name)) problems.push(`${w.name} is declared twice`);
    names.add(w.name);
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(w.name)) problems.push(`${w.name} is not a DNS name`);
    for (const n of w.networks) if (!networks.has(n)) problems.push(`${w.name} joins unknown network ${n}`);
    if (!w.networks.some((n) => n !== 'edge')) problems.push(`${w.name} is on no lab network`);
    if (w.replicas < 1) problems.push(`${w.name} has no replicas`);
    if (w.publish !== undefined && w.scalable && !w.balanced)
      problems.push(`${w.name} publishes a port and cannot be scaled (unless behind a balancer)`);
    if (w.publish !== undefined && !w.networks.includes('edge'))
      problems.push(`${w.name} publishes a port but is not on the edge network`);
    if (Object.keys(w.labels).length === 0) problems.push(`${w.name} has no selector labels`);
  }
  for (const w of d.workloads) {
    for (const dep of w.dependsOn) if (!names.has(dep)) problems.push(`${w.name} depends on unknown ${dep}`);
  }
  if (!names.has(d.entry)) problems.push(`entry ${d.entry} is not a workload`);
  for (const [module, workload] of Object.entries(d.modules))
    if (!names.has(workload)) problems.push(`module ${module} runs in unknown workload ${workload}`);
  try {
    startOrder(d);
  } catch (err) {
    problems.push((err as Error).message);
  }
  return problems;
}

/** Workloads in waves: each wave depends only on earlier ones, so a wave starts in parallel. */
export function startOrder(d: Deployment): WorkloadSpec[][] {
  const waves: WorkloadSpec[][] = [];
  const placed = new Set<string>();
  let rest = [...d.workloads];
  while (rest.length) {
    const wave = rest.filter((w) => w.dependsOn.every((dep) => placed.has(dep)));
    if (wave.length === 0) throw new Error(`dependency cycle among ${rest.map((w) => w.name).join(', ')}`);
    for (const w of wave) placed.add(w.name);
    waves.push(wave);
    rest = rest.filter((w) => !placed.has(w.name));
  }
  return waves;
}
