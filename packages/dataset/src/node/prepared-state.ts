import { open } from 'node:fs/promises';
import { RecordBatchReader } from 'apache-arrow';
import { parseImageDatasetSchema } from '../schema.js';

/**
 * Whether `path` holds the dataset prepared by rxvision from these raw files (name → sha256) with
 * `rows` rows (a file without a known sha256, `undefined`, matches by name), reading only the schema (the file's footer and header), never the pixels:
 * `missing`, `prepared`, or what is wrong with it.
 */
export async function preparedState(
  path: string,
  sources: Readonly<Record<string, string | undefined>>,
  rows: number,
  classes?: readonly string[],
): Promise<'missing' | 'prepared' | { problem: string }> {
  const handle = await open(path).catch(() => undefined);
  if (!handle) return 'missing';
  try {
    let reader;
    try {
      reader = await RecordBatchReader.from(handle);
      await reader.open();
    } catch (error) {
      return { problem: `is not a readable Arrow IPC file (${(error as Error).message})` };
    }
    // A few bytes that are no Arrow at all open without an error, and without a schema.
    if (!reader.schema) return { problem: 'is not a readable Arrow IPC file (no schema)' };
    const info = parseImageDatasetSchema(reader.schema);
    if (typeof info === 'string') return { problem: info };
    const names = Object.keys(sources);
    const from = Object.keys(info.sources).sort().join(', ');
    if (from !== [...names].sort().join(', '))
      return { problem: `was prepared from ${from || 'no named raw files'}, not ${names.join(', ')}` };
    if (!names.every((name) => sources[name] === undefined || info.sources[name] === sources[name]))
      return { problem: `was prepared from other versions of ${names.join(', ')} (their sha256 differ)` };
    // The same raw files make different datasets under other labels (CIFAR-100's fine and coarse).
    if (classes && info.classes.join('\n') !== classes.join('\n'))
      return {
        problem: `holds ${info.classes.length} other classes (${info.classes.slice(0, 3).join(', ')}, …), not ${classes.length} (${classes.slice(0, 3).join(', ')}, …)`,
      };
    if (info.rows !== rows) return { problem: `holds ${info.rows} rows, not the ${rows} of ${names.join(', ')}` };
    return 'prepared';
  } finally {
    await handle.close();
  }
}
