// Preloaded with `node --import` (through NODE_OPTIONS, so relaunched children load it too): on exit,
// appends this process's peak resident memory to the file named by RXVISION_PEAK_RSS_FILE.
import { appendFileSync } from 'node:fs';

const file = process.env.RXVISION_PEAK_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const line = { pid: process.pid, argv: process.argv.slice(1).join(' '), peakRssMb: process.resourceUsage().maxRSS / 1024 };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  });
}
