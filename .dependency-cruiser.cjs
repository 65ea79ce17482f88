/**
 * The layer rule of DESIGN.md / README "How it is built", checked by `npm run lint`:
 *
 *   edges (cli, main.ts, preload.ts, bench)  ->  services/, class/ (the live class)  ->  labs/ (the lab runner)  ->  api/
 *     ->  probe/, export/  ->  firewall/  ->  topology/ (domain)  ->  engine/
 *     ->  floor (errors, paths, tasks, wait, yaml-file)
 *
 * The lab runner is a client of the API, like the UI: it imports the contract and the floor
 * only, and only the services (which wire it to the handlers) and the edges import it.
 *
 * The renderer takes types from the contract, and values only from plain modules (the API's
 * vocabulary, the WebSocket client, the errors), so that no schema (zod) lands in its bundle.
 *
 * Dependencies point down only, and there is no circle anywhere (type-only imports count).
 * test/unit/layers.test.ts proves each rule fires on a small fixture.
 */
const FLOOR = '^electron/(errors|paths|tasks|wait|yaml-file)\\.ts$';
const EDGES = '^(electron/(cli\\.ts|cli/|main\\.ts|preload\\.ts)|bench/)';
const DOMAIN = '^electron/(engine|topology|firewall|probe|terminal|export)/';
/** The modules the renderer may take values from: plain, no schema (zod) behind them. */
const PLAIN_FOR_THE_RENDERER = '^electron/(errors|api/(class|vocabulary|terminal-input|ws-client|ws-protocol))\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'A circle in the imports is a design bug: break it with a narrow interface or by moving a type down.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'floor-imports-nothing-above',
      comment:
        'errors, paths and tasks are imported by all and import none of the layers above (give them a narrow interface).',
      severity: 'error',
      from: { path: FLOOR },
      to: { path: '^(electron|renderer|labs)/', pathNot: FLOOR },
    },
    {
      name: 'domain-never-imports-api',
      comment:
        'engine, topology, firewall and probe never import the API, the services, the labs runner or an edge: the contract imports their types.',
      severity: 'error',
      from: { path: DOMAIN },
      to: { path: ['^electron/(api|services|labs)/', EDGES] },
    },
    {
      name: 'engine-stays-below-the-domain',
      comment: 'engine/ knows Docker, not deployments, firewalls or probes.',
      severity: 'error',
      from: { path: '^electron/engine/' },
      to: { path: '^electron/(topology|firewall|probe)/' },
    },
    {
      name: 'topology-never-imports-firewall',
      comment:
        'topology does not know how a workload is filtered: the firewall is given to it (Target.afterStart, Target.perimeter).',
      severity: 'error',
      from: { path: '^electron/topology/' },
      to: { path: '^electron/(firewall|probe)/' },
    },
    {
      name: 'firewall-meets-topology-narrowly',
      comment:
        'firewall sees topology only through the workloads and their addresses (topology/workload.ts) and the perimeter layout (topology/perimeter.ts).',
      severity: 'error',
      from: { path: '^electron/firewall/' },
      to: { path: '^electron/topology/', pathNot: '^electron/topology/(workload|perimeter)\\.ts$' },
    },
    {
      name: 'firewall-never-imports-probe',
      comment: 'the probe builds on the firewall (its evaluator, its sidecars), not the other way round.',
      severity: 'error',
      from: { path: '^electron/firewall/' },
      to: { path: '^electron/probe/' },
    },
    {
      name: 'export-stays-above-the-domain',
      comment:
        'export/ translates the shop and its policy for Kubernetes from the firewall and the topology; they, the probe and the engine never import it.',
      severity: 'error',
      from: { path: '^electron/(engine|topology|firewall|probe|terminal)/' },
      to: { path: '^electron/export/' },
    },
    {
      name: 'target-semantics-stand-alone',
      comment:
        "each target's evaluator (export/verify: NetworkPolicy, Cilium, Calico) is written from that target's documentation, independently of MicroLab's: it imports no other MicroLab module than verify/cluster.ts, so the proof compares two independent readings.",
      severity: 'error',
      from: { path: '^electron/export/verify/(networkpolicy|cilium|calico|cluster)\\.ts$' },
      to: { path: '^(electron|renderer|labs)/', pathNot: '^electron/export/verify/cluster\\.ts$' },
    },
    {
      name: 'api-never-imports-services',
      comment: 'the contract and its transports know the handlers only by their type (Handlers).',
      severity: 'error',
      from: { path: '^electron/api/' },
      to: { path: ['^electron/services/', EDGES] },
    },
    {
      name: 'nothing-imports-an-edge',
      comment: 'cli, main.ts, preload.ts and bench parse, print and wire; nothing below them imports them.',
      severity: 'error',
      from: { path: '^(electron|renderer)/', pathNot: EDGES },
      to: { path: EDGES },
    },
    {
      name: 'labs-runner-only-through-the-api',
      comment: 'the lab runner calls the services through the API, like the UI: it imports the contract (api/) and the floor, no domain module, service or edge.',
      severity: 'error',
      from: { path: '^electron/labs/' },
      to: { path: '^(electron|renderer)/', pathNot: ['^electron/(labs|api)/', FLOOR] },
    },
    {
      name: 'only-services-and-edges-use-the-runner',
      comment: 'the lab runner is wired by the services and driven through the API: nothing below the services imports it.',
      severity: 'error',
      from: { path: '^(electron|renderer)/', pathNot: ['^electron/(labs|services|class)/', EDGES] },
      to: { path: '^electron/labs/' },
    },
    {
      name: 'class-stays-above-the-runner',
      comment:
        "class/ (the live class: its protocol, the host, the student's client) builds on the lab runner's progress and class report; only the services and the edges import it.",
      severity: 'error',
      from: { path: '^(electron|renderer)/', pathNot: ['^electron/(class|services)/', EDGES] },
      to: { path: '^electron/class/' },
    },
    {
      name: 'class-imports-no-domain-module',
      comment:
        'the live class sends and gathers lab progress: it imports the runner, the contract and the floor, never the engine, the topology, the firewall, the probe, the terminal, the export or the services.',
      severity: 'error',
      from: { path: '^electron/class/' },
      to: { path: ['^electron/(engine|topology|firewall|probe|terminal|export|services)/', EDGES] },
    },
    {
      name: 'renderer-only-through-the-contract',
      comment:
        'the renderer talks only to the typed API (and the shared errors), never to the main process modules.',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { path: '^electron/', pathNot: ['^electron/api/', FLOOR] },
    },
    {
      name: 'renderer-values-from-plain-modules',
      comment:
        "the renderer takes types from the contract, but values only from plain modules (the API's vocabulary, the transports' client, the errors): a value from contract.ts would pull its schemas (zod) into the renderer's bundle.",
      severity: 'error',
      from: { path: '^renderer/' },
      to: { path: '^electron/', pathNot: PLAIN_FOR_THE_RENDERER, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|release|node_modules)/' },
    tsPreCompilationDeps: true,
    moduleSystems: ['es6', 'cjs'],
  },
};
