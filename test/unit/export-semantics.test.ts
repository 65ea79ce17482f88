/**
 * The target evaluators the export is proved against (electron/export/verify), each on the
 * cases its documentation spells out: they must be right on their own, not only agree with
 * MicroLab's.
 */
import { describe, expect, it } from 'vitest';
import { calicoAllows, parseSelector } from '../../electron/export/verify/calico';
import type { CalicoObject } from '../../electron/export/verify/calico';
import { ciliumAllows } from '../../electron/export/verify/cilium';
import type { CiliumPolicyObject } from '../../electron/export/verify/cilium';
import type { Cluster, Flow, Pod } from '../../electron/export/verify/cluster';
import { networkPolicyAllows } from '../../electron/export/verify/networkpolicy';
import type { NetworkPolicyObject } from '../../electron/export/verify/networkpolicy';

const pod = (name: string, labels: Record<string, string>, namespace = 'shop'): Pod => ({
  name,
  namespace,
  labels,
});
const web = pod('web', { app: 'web' });
const api = pod('api', { app: 'api' });
const db = pod('db', { app: 'db' });
const other = pod('other', { app: 'api' }, 'elsewhere');
const cluster: Cluster = {
  pods: [web, api, db, other],
  namespaces: { shop: { team: 'shop' }, elsewhere: { team: 'x' } },
};
const tcp = (src: Pod, dst: Pod, port: number): Flow => ({ src, dst, protocol: 'TCP', port });

const np = (name: string, spec: NetworkPolicyObject['spec']): NetworkPolicyObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: 'shop' },
  spec,
});

describe('NetworkPolicy', () => {
  const isolateDb = np('db-isolated', {
    podSelector: { matchLabels: { app: 'db' } },
    policyTypes: ['Ingress'],
  });
  const apiToDb = np('api-db', {
    podSelector: { matchLabels: { app: 'db' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 5432 }] }],
  });
  it('allows everything to a pod no policy selects', () => {
    expect(networkPolicyAllows([], cluster, tcp(web, db, 5432))).toBe(true);
  });
  it('isolates a selected pod: only the union of the allows gets in', () => {
    expect(networkPolicyAllows([isolateDb], cluster, tcp(api, db, 5432))).toBe(false);
    expect(networkPolicyAllows([isolateDb, apiToDb], cluster, tcp(api, db, 5432))).toBe(true);
    expect(networkPolicyAllows([isolateDb, apiToDb], cluster, tcp(api, db, 5433))).toBe(false);
    expect(networkPolicyAllows([isolateDb, apiToDb], cluster, tcp(web, db, 5432))).toBe(false);
    // A podSelector alone stays in the policy's namespace.
    expect(networkPolicyAllows([apiToDb], cluster, tcp(other, db, 5432))).toBe(false);
  });
  it('needs the egress of the source too', () => {
    const apiEgressNone = np('api-out', {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Egress'],
    });
    expect(networkPolicyAllows([apiToDb, apiEgressNone], cluster, tcp(api, db, 5432))).toBe(false);
  });
  it('reads endPort as a range, protocol TCP by default, and namespaceSelector with podSelector as both', () => {
    const ranged = np('range', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: 'x' } },
              podSelector: { matchLabels: { app: 'api' } },
            },
          ],
          ports: [{ port: 9000, endPort: 9010 }],
        },
      ],
    });
    expect(networkPolicyAllows([ranged], cluster, tcp(other, db, 9010))).toBe(true);
    expect(networkPolicyAllows([ranged], cluster, tcp(other, db, 9011))).toBe(false);
    expect(networkPolicyAllows([ranged], cluster, { ...tcp(other, db, 9005), protocol: 'UDP' })).toBe(false);
    expect(networkPolicyAllows([ranged], cluster, tcp(api, db, 9005))).toBe(false);
  });
});

const cnp = (spec: CiliumPolicyObject['spec']): CiliumPolicyObject => ({
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name: 'p', namespace: 'shop' },
  spec,
});

describe('Cilium', () => {
  const allowApi = { fromEndpoints: [{ matchLabels: { 'k8s:app': 'api' } }] };
  it('is default-deny once a policy has rules in a direction, unless enableDefaultDeny says otherwise', () => {
    const p = cnp({ endpointSelector: { matchLabels: { app: 'db' } }, ingress: [allowApi] });
    expect(ciliumAllows([p], cluster, tcp(api, db, 1))).toBe(true);
    expect(ciliumAllows([p], cluster, tcp(web, db, 1))).toBe(false);
    const open = cnp({ ...p.spec, enableDefaultDeny: { ingress: false } });
    expect(ciliumAllows([open], cluster, tcp(web, db, 1))).toBe(true);
    const closed = cnp({
      endpointSelector: { matchLabels: { app: 'db' } },
      enableDefaultDeny: { ingress: true },
    });
    expect(ciliumAllows([closed], cluster, tcp(api, db, 1))).toBe(false);
  });
  it('lets a deny beat any allow', () => {
    const p = cnp({
      endpointSelector: { matchLabels: { app: 'db' } },
      ingress: [allowApi],
      ingressDeny: [
        {
          fromEndpoints: [{ matchLabels: { app: 'api' } }],
          toPorts: [{ ports: [{ port: '22', protocol: 'TCP' }] }],
        },
      ],
    });
    expect(ciliumAllows([p], cluster, tcp(api, db, 22))).toBe(false);
    expect(ciliumAllows([p], cluster, tcp(api, db, 23))).toBe(true);
  });
});

const calicoPolicy = (
  name: string,
  tier: string,
  order: number,
  ingress: CalicoObject['spec']['ingress'],
  kind = 'NetworkPolicy',
): CalicoObject => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: { name, namespace: 'shop' },
  spec: { tier, order, selector: "app == 'db'", types: ['Ingress'], ingress },
});
const tier = (name: string, order: number, defaultAction: 'Deny' | 'Pass' = 'Deny'): CalicoObject => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'Tier',
  metadata: { name },
  spec: { order, defaultAction },
});

describe('Calico', () => {
  it('reads its selector language', () => {
    const labels = { app: 'db', tier: 'data' };
    expect(parseSelector("app == 'db' && tier == 'data'")(labels)).toBe(true);
    expect(parseSelector("app in { 'api', 'db' } && !has(x)")(labels)).toBe(true);
    expect(parseSelector("(app == 'api') || (tier != 'data')")(labels)).toBe(false);
    expect(parseSelector("app not in { 'db' }")(labels)).toBe(false);
    expect(parseSelector('all()')(labels)).toBe(true);
    expect(() => parseSelector("app === 'db'")).toThrow();
  });
  it('takes the first Allow or Deny in order; Log goes on', () => {
    const objects = [
      tier('t', 10),
      calicoPolicy('t.p', 't', 1, [
        { action: 'Log', source: { selector: "app == 'web'" } },
        { action: 'Deny', source: { selector: "app == 'web'" } },
        { action: 'Allow' },
      ]),
    ];
    expect(calicoAllows(objects, cluster, tcp(web, db, 1))).toBe(false);
    expect(calicoAllows(objects, cluster, tcp(api, db, 1))).toBe(true);
  });
  it('ends a tier with its default action; Pass goes to the next tier; staged policies enforce nothing', () => {
    const first = calicoPolicy('a.p', 'a', 1, [{ action: 'Pass', source: { selector: "app == 'api'" } }]);
    const second = calicoPolicy('b.p', 'b', 1, [{ action: 'Allow', source: { selector: "app == 'api'" } }]);
    const objects = [tier('a', 1), tier('b', 2), first, second];
    expect(calicoAllows(objects, cluster, tcp(api, db, 1))).toBe(true);
    // web matches nothing in tier a: the end-of-tier deny.
    expect(calicoAllows(objects, cluster, tcp(web, db, 1))).toBe(false);
    expect(calicoAllows([tier('a', 1, 'Pass'), first], cluster, tcp(web, db, 1))).toBe(true);
    const staged = calicoPolicy('a.s', 'a', 1, [{ action: 'Deny' }], 'StagedNetworkPolicy');
    expect(calicoAllows([tier('a', 1), staged], cluster, tcp(web, db, 1))).toBe(true);
  });
  it('keeps a selector in the policy namespace unless a namespaceSelector is given', () => {
    const p = calicoPolicy('t.p', 't', 1, [{ action: 'Allow', source: { selector: "app == 'api'" } }]);
    expect(calicoAllows([tier('t', 1), p], cluster, tcp(other, db, 1))).toBe(false);
    const q = calicoPolicy('t.q', 't', 1, [
      { action: 'Allow', source: { selector: "app == 'api'", namespaceSelector: "team == 'x'" } },
    ]);
    expect(calicoAllows([tier('t', 1), q], cluster, tcp(other, db, 1))).toBe(true);
  });
});
