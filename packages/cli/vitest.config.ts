import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// Three test files at once: most of these tests wait on the processes they start (training runs,
// Redis, browsers, timers) rather than compute, and one at a time (vitest's default on two cores)
// took 22 of CI's 24 minutes.
export default mergeConfig(shared, { test: { maxWorkers: 3 } });
