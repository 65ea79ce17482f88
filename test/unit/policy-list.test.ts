import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listShippedPolicies } from '../../electron/services/firewall';

const dir = path.resolve(import.meta.dirname, '..', '..', 'labs', 'policies');

describe('policy:list', () => {
  it('lists every shipped policy with its deployment and the first line of its header', async () => {
    const listed = await listShippedPolicies(dir);
    expect(listed.map((p) => p.name)).toEqual(
      readdirSync(dir)
        .filter((n) => n.endsWith('.yaml'))
        .sort(),
    );
    const segmented = listed.find((p) => p.name === 'microservices-segmented.yaml');
    expect(segmented).toEqual({
      file: path.join(dir, 'microservices-segmented.yaml'),
      name: 'microservices-segmented.yaml',
      deployment: 'microservices',
      title: 'Microservices, segmented: both "micro"s, a small policy next to each service.',
      text: readFileSync(path.join(dir, 'microservices-segmented.yaml'), 'utf8'),
    });
    for (const p of listed) {
      expect(p.title.length, p.name).toBeGreaterThan(10);
      expect(p.deployment, p.name).toMatch(/^(monolith|microservices)$/);
    }
  });
});
