/**
 * `npm run bench [-- SECTION...]`: prints MicroLab's figures (medians with min and max,
 * ratios against a baseline measured in the same run). Sections: foundation, deployments, firewall, shop-firewall, terminal, labs, capacity (lab 3's
 * capacity searches, also part of labs), pods, web-fuzz, export, footprint (the minimum laptop).
 */
import { benchDeployments } from './deployments';
import { benchExport } from './export';
import { benchFirewall } from './firewall';
import { benchFoundation } from './foundation';
import { benchFootprint } from './footprint';
import { benchCapacity, benchLabs } from './labs';
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
  capacity: benchCapacity,
  pods: benchPods,
  'web-fuzz': benchWebFuzz,
  export: benchExport,
  footprint: benchFootprint,
};

const chosen = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(sections);
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
