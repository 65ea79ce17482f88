/**
 * `npm run bench [-- SECTION...]`: prints MicroLab's figures (medians with min and max,
 * ratios against a baseline measured in the same run). Sections: foundation, deployments, firewall, shop-firewall, terminal, labs, capacity (lab 3's
 * capacity searches, also part of labs), pods, web-fuzz, export, class, footprint (the minimum
 * laptop). Not run by default: labs-record (every lab walked once, its figures written to
 * labs/guides/figures.json for the instructor's guide).
 */
import { benchClass, runClassStudents } from './class';
import { benchDeployments } from './deployments';
import { benchExport } from './export';
import { benchFirewall } from './firewall';
import { benchFoundation } from './foundation';
import { benchFootprint } from './footprint';
import { benchCapacity, benchLabs, benchLabsRecord } from './labs';
import { benchPods } from './pods';
import { benchShopFirewall } from './shop-firewall';
import { benchTerminal } from './terminal';
import { benchWebFuzz } from './web-fuzz';

const sections: Record<string, () => Promise<void>> = {
  foundation: benchFoundation,
  deployments: benchDeployments,
  firewall: benchFirewall,
  'shop-firewall': benchShopFirewall,
  terminal: benchTerminal,
  labs: benchLabs,
  'labs-record': benchLabsRecord,
  capacity: benchCapacity,
  pods: benchPods,
  'web-fuzz': benchWebFuzz,
  export: benchExport,
  class: benchClass,
  footprint: benchFootprint,
};

// The students' side of the class bench, in a process of its own (bench/class.ts).
if (process.argv[2] === 'class-students') {
  await runClassStudents(process.argv[3] ?? '');
  process.exit(0);
}

const chosen = process.argv.slice(2).length
  ? process.argv.slice(2)
  : Object.keys(sections).filter((name) => name !== 'labs-record');
for (const name of chosen) {
  const run = sections[name];
  if (!run) {
    console.error(
      `unknown bench section ${JSON.stringify(name)}; known: ${Object.keys(sections).join(', ')}`,
    );
    process.exit(2);
  }
  await run();
}
process.exit(0);
