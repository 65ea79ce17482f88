/**
 * Calico's Tier, NetworkPolicy and StagedNetworkPolicy (projectcalico.org/v3) as JSON Schema,
 * written by MicroLab from Calico's API reference (Calico Open Source 3.30 to 3.32, "latest" at
 * docs.tigera.io): calico/latest/reference/resources/tier, .../networkpolicy (its Spec, Rule,
 * RuleMetadata, ICMP, EntityRule, Selector, Ports, ServiceAccountMatch and ServiceMatch
 * sections) and .../stagednetworkpolicy. No npm package ships Calico's schemas, so this is ours,
 * not Calico's CRDs, and only as exact as those pages.
 *
 * Checks: apiVersion and kind; metadata's name, namespace, labels and annotations; every spec
 * field those pages list for the three kinds, with its type and, where the pages give them,
 * its values (a rule's action Allow, Deny, Log or Pass; protocol TCP, UDP, ICMP, ICMPv6, SCTP,
 * UDPLite or 1 to 255; ports 0 to 65535, "a:b" ranges or named ports; types Ingress and Egress;
 * a tier's defaultAction Deny or Pass; stagedAction Set or Delete; ipVersion 4 or 6; ICMP type
 * 0 to 254 and code 0 to 255); a rule needs its action. Strict on unknown fields everywhere
 * (`additionalProperties: false`), as the API server is under kubectl's strict field validation.
 *
 * Does not check: a selector's syntax (only that it is a string), that a net is a well-formed
 * CIDR (only the shape of one), a range's ends in order, the rules the API server adds beyond
 * the pages (ICMP only with an ICMP protocol, ports only with TCP, UDP or SCTP, a policy name's
 * tier prefix, the built-in tiers' fixed values), GlobalNetworkPolicy (the export writes none),
 * nor ObjectMeta beyond the four fields above.
 */
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';

type Schema = Record<string, unknown>;

const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  additionalProperties: false,
});
const string: Schema = { type: 'string' };
const strings: Schema = { type: 'array', items: string };
const stringMap: Schema = { type: 'object', additionalProperties: string };
const selector = string;

const metadata = (namespaced: boolean): Schema =>
  object(
    {
      name: { type: 'string', minLength: 1 },
      ...(namespaced ? { namespace: string } : {}),
      labels: stringMap,
      annotations: stringMap,
    },
    ['name'],
  );

/** A protocol by name or by number. */
const protocol: Schema = {
  anyOf: [
    { type: 'string', enum: ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'] },
    { type: 'integer', minimum: 1, maximum: 255 },
  ],
};

/** A port: a number, a "first:last" range, or a named port (a pod's container port name). */
const port: Schema = {
  anyOf: [
    { type: 'integer', minimum: 0, maximum: 65535 },
    { type: 'string', pattern: '^[0-9]{1,5}:[0-9]{1,5}$' },
    { type: 'string', pattern: '^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$', maxLength: 15 },
  ],
};

/** An IPv4 or IPv6 CIDR (or bare address), by its shape. */
const net: Schema = { type: 'string', pattern: '^([0-9.]+|[0-9a-fA-F:.]+)(/[0-9]{1,3})?$' };

const icmp = object({
  type: { type: 'integer', minimum: 0, maximum: 254 },
  code: { type: 'integer', minimum: 0, maximum: 255 },
});

const entityRule = object({
  nets: { type: 'array', items: net },
  notNets: { type: 'array', items: net },
  selector,
  notSelector: selector,
  namespaceSelector: selector,
  ports: { type: 'array', items: port },
  notPorts: { type: 'array', items: port },
  serviceAccounts: object({ names: strings, selector }),
  services: object({ name: string, namespace: string }),
});

const rule = object(
  {
    action: { type: 'string', enum: ['Allow', 'Deny', 'Log', 'Pass'] },
    metadata: object({ annotations: stringMap }),
    protocol,
    notProtocol: protocol,
    ipVersion: { type: 'integer', enum: [4, 6] },
    icmp,
    notICMP: icmp,
    source: entityRule,
    destination: entityRule,
    http: object({
      methods: strings,
      paths: { type: 'array', items: object({ exact: string, prefix: string }) },
    }),
  },
  ['action'],
);

const policySpec = (staged: boolean): Schema =>
  object({
    tier: string,
    order: { type: 'number' },
    selector,
    serviceAccountSelector: selector,
    types: { type: 'array', items: { type: 'string', enum: ['Ingress', 'Egress'] } },
    ingress: { type: 'array', items: rule },
    egress: { type: 'array', items: rule },
    performanceHints: { type: 'array', items: { type: 'string', enum: ['AssumeNeededOnEveryNode'] } },
    ...(staged ? { stagedAction: { type: 'string', enum: ['Set', 'Delete'] } } : {}),
  });

const resource = (kind: string, namespaced: boolean, spec: Schema): Schema =>
  object(
    {
      apiVersion: { const: 'projectcalico.org/v3' },
      kind: { const: kind },
      metadata: metadata(namespaced),
      spec,
    },
    ['apiVersion', 'kind', 'metadata'],
  );

/** The schemas by "apiVersion/kind". */
export const CALICO_SCHEMAS: Record<string, Schema> = {
  'projectcalico.org/v3/Tier': resource(
    'Tier',
    false,
    object({ order: { type: 'number' }, defaultAction: { type: 'string', enum: ['Deny', 'Pass'] } }),
  ),
  'projectcalico.org/v3/NetworkPolicy': resource('NetworkPolicy', true, policySpec(false)),
  'projectcalico.org/v3/StagedNetworkPolicy': resource('StagedNetworkPolicy', true, policySpec(true)),
};

const ajv = new Ajv({ allErrors: true, strict: true });

function describe(e: ErrorObject): string {
  const where = e.instancePath || '/';
  if (e.keyword === 'additionalProperties')
    return `${where}: unknown field ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  if (e.keyword === 'enum')
    return `${where}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`;
  return `${where}: ${e.message}`;
}

export interface CalicoValidator {
  /** "apiVersion/kind", e.g. "projectcalico.org/v3/Tier". */
  key: string;
  /** Problems as "path: message" (e.g. "/spec/order: must be number"); empty when valid. */
  problems(object: unknown): string[];
}

/** One validator per kind. */
export function calicoValidators(): CalicoValidator[] {
  return Object.entries(CALICO_SCHEMAS).map(([key, schema]) => {
    const validate: ValidateFunction = ajv.compile(schema);
    return {
      key,
      problems: (o: unknown) => (validate(o) ? [] : (validate.errors ?? []).map(describe)),
    };
  });
}
