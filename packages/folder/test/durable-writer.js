// Writes one file through a claim and one with writeFileAtomic, for durable-writes.test.ts to
// watch under strace: plain Node on the built package, as a user's process.
import { join } from 'node:path';
import { claimFolder, writeFileAtomic } from '../dist/index.js';

const [claimed, unclaimed] = process.argv.slice(2);
const claim = await claimFolder(claimed, { purpose: 'test' });
await claim.writeFile(join(claimed, 'history.json'), '[]');
await claim.release();
await writeFileAtomic(join(unclaimed, 'summary.json'), '{}');
