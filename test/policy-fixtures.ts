/**
 * Policy files the validator must reject, each with where and what it reports. The unit test
 * of the policy language checks the validator's answer; the schema test runs the same files
 * through a JSON Schema validator with labs/policies/policy.schema.json, which must reject them
 * too, except the few whose fault no JSON Schema can see (`beyondSchema` says why: the editor
 * then shows the validator's own problems, which `policy:validate` gives it).
 */

export interface RejectedPolicy {
  what: string;
  text: string;
  line: number;
  column: number;
  message: RegExp;
  /** Why a JSON Schema cannot reject this one (it is about the YAML text, or about one part of the file against another). */
  beyondSchema?: 'yaml' | 'cross-reference' | 'size';
}

const rule = (body: string) => `rules:\n  - id: a\n    from: any\n    to: any\n${body}    action: allow\n`;

export const REJECTED: RejectedPolicy[] = [
  {
    what: 'bad YAML',
    text: 'rules: [\n  - id: a\n',
    line: 2,
    column: 3,
    message: /bad YAML/,
    beyondSchema: 'yaml',
  },
  {
    what: 'duplicate keys',
    text: 'mode: off\nmode: enforce\n',
    line: 2,
    column: 1,
    message: /bad YAML: Map keys must be unique/,
    beyondSchema: 'yaml',
  },
  { what: 'an empty policy', text: '', line: 1, column: 1, message: /empty/ },
  {
    what: 'a list instead of a policy',
    text: '- mode: off\n',
    line: 1,
    column: 1,
    message: /a policy is a map/,
  },
  {
    what: 'an unknown top-level field',
    text: 'mode: off\nrulez: []\n',
    line: 2,
    column: 1,
    message: /unknown field "rulez"/,
  },
  {
    what: 'an unknown rule field',
    text: 'rules:\n  - id: a\n    from: any\n    to: any\n    action: allow\n    prio: 3\n',
    line: 6,
    column: 5,
    message: /unknown field "prio"/,
  },
  {
    what: 'a bad mode',
    text: 'mode: audit\n',
    line: 1,
    column: 7,
    message: /mode is one of off, monitor, enforce/,
  },
  {
    what: 'a bad default action',
    text: 'defaultAction: drop\n',
    line: 1,
    column: 16,
    message: /action is one of allow, deny, reject/,
  },
  {
    what: 'port 0',
    text: rule('    ports: [0]\n'),
    line: 5,
    column: 13,
    message: /port 0 is out of range 1-65535/,
  },
  {
    what: 'port 70000',
    text: rule('    ports: [80, 70000]\n'),
    line: 5,
    column: 17,
    message: /port 70000 is out of range/,
  },
  {
    what: 'port 70000 in a range',
    text: rule('    ports: ["1000-70000/tcp"]\n'),
    line: 5,
    column: 13,
    message: /port 70000 is out of range/,
  },
  {
    what: 'port 0 as text',
    text: rule('    ports: ["0/udp"]\n'),
    line: 5,
    column: 13,
    message: /port 0 is out of range/,
  },
  {
    what: 'a port with another protocol',
    text: rule('    ports: ["53/icmp"]\n'),
    line: 5,
    column: 13,
    message: /is not 8080, "8080\/tcp" or a range/,
  },
  {
    what: 'a backwards range',
    text: rule('    ports: ["90-80"]\n'),
    line: 5,
    column: 13,
    message: /runs backwards/,
    beyondSchema: 'cross-reference',
  },
  {
    what: 'overlapping port ranges',
    text: rule('    ports: ["8000-8100", 8080]\n'),
    line: 5,
    column: 26,
    message: /port 8080\/tcp overlaps 8000-8100\/tcp/,
    beyondSchema: 'cross-reference',
  },
  {
    what: 'an empty list of ports',
    text: rule('    ports: []\n'),
    line: 5,
    column: 12,
    message: /list the ports .*, or leave "ports" out for every port/,
  },
  {
    what: 'an unknown segment',
    text: 'segments:\n  web: { selector: { tier: web } }\nrules:\n  - id: a\n    from: { segment: wbe }\n    to: any\n    action: allow\n',
    line: 5,
    column: 22,
    message: /unknown segment "wbe" \(segments: web\)/,
    beyondSchema: 'cross-reference',
  },
  {
    what: 'a segment with neither selector nor workloads',
    text: 'segments:\n  web: {}\n',
    line: 2,
    column: 8,
    message: /needs a selector or a list of workloads/,
  },
  {
    what: 'a segment with an empty selector',
    text: 'segments:\n  web: { selector: {} }\n',
    line: 2,
    column: 20,
    message: /a selector needs at least one label/,
  },
  {
    what: 'a segment with an empty list of workloads',
    text: 'segments:\n  web: { workloads: [] }\n',
    line: 2,
    column: 21,
    message: /a list of workloads needs at least one name/,
  },
  {
    what: 'a segment with a selector and an empty list of workloads',
    text: 'segments:\n  web: { selector: { tier: web }, workloads: [] }\n',
    line: 2,
    column: 46,
    message: /a list of workloads needs at least one name/,
  },
  {
    what: 'an empty list of sources',
    text: 'rules:\n  - { id: a, from: [], to: any, action: allow }\n',
    line: 2,
    column: 20,
    message: /"from" needs at least one peer/,
  },
  {
    what: 'an empty list of destinations',
    text: 'rules:\n  - { id: a, from: any, to: [], action: allow }\n',
    line: 2,
    column: 29,
    message: /"to" needs at least one peer/,
  },
  {
    what: 'a peer with an empty selector',
    text: 'rules:\n  - { id: a, from: { selector: {} }, to: any, action: allow }\n',
    line: 2,
    column: 32,
    message: /a selector needs at least one label/,
  },
  {
    what: 'a rule without an action',
    text: 'rules:\n  - { id: a, from: any, to: any }\n',
    line: 2,
    column: 5,
    message: /a rule needs "action"/,
  },
  {
    what: 'a rule without an id',
    text: 'rules:\n  - { from: any, to: any, action: allow }\n',
    line: 2,
    column: 5,
    message: /a rule needs "id"/,
  },
  {
    what: 'a negative priority',
    text: 'rules:\n  - { id: a, from: any, to: any, action: allow, priority: -1 }\n',
    line: 2,
    column: 59,
    message: /priority is a whole number from 0 to 1000000/,
  },
  {
    what: 'a priority that is not a number',
    text: 'rules:\n  - { id: a, from: any, to: any, action: allow, priority: high }\n',
    line: 2,
    column: 59,
    message: /priority is a whole number from 0 to 1000000/,
  },
  {
    what: 'log that is not true or false',
    text: 'rules:\n  - { id: a, from: any, to: any, action: allow, log: yes }\n',
    line: 2,
    column: 54,
    message: /log is true or false/,
  },
  {
    what: 'a description too long',
    text: `description: ${'x'.repeat(2001)}\n`,
    line: 1,
    column: 14,
    message: /a description is at most 2000 characters/,
  },
  {
    what: 'rules that are not a list',
    text: 'rules: { id: a }\n',
    line: 1,
    column: 8,
    message: /rules is a list of rules/,
  },
  {
    what: 'a duplicate rule id',
    text: 'rules:\n  - { id: a, from: any, to: any, action: allow }\n  - { id: a, from: any, to: any, action: deny }\n',
    line: 3,
    column: 11,
    message: /rule id "a" is used twice/,
    beyondSchema: 'cross-reference',
  },
  {
    what: 'a reserved rule id',
    text: 'rules:\n  - { id: default, from: any, to: any, action: allow }\n',
    line: 2,
    column: 11,
    message: /reserved/,
  },
  {
    what: 'a misspelled peer',
    text: 'rules:\n  - { id: a, from: { segmnt: x }, to: any, action: allow }\n',
    line: 2,
    column: 20,
    message: /a peer is any/,
  },
  {
    what: 'a rule id with a shell command',
    text: `rules:\n  - id: 'x" ; drop ; "'\n    from: any\n    to: any\n    action: allow\n`,
    line: 2,
    column: 9,
    message: /rule id .* is not a safe id/,
  },
  {
    what: 'a rule id with nft syntax',
    text: `rules:\n  - id: 'a} table ip filter {'\n    from: any\n    to: any\n    action: allow\n`,
    line: 2,
    column: 9,
    message: /rule id .* is not a safe id/,
  },
  {
    what: 'a hostile segment name',
    text: 'segments:\n  "web`id`": { selector: { tier: web } }\n',
    line: 2,
    column: 3,
    message: /segment name "web`id`" is not a safe name/,
  },
  {
    what: 'a hostile label value',
    text: 'segments:\n  ops: { selector: { tier: "a b" } }\n',
    line: 2,
    column: 28,
    message: /label value "a b" is not a safe name/,
  },
];
