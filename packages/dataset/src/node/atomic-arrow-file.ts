import { open, rename, rm } from 'node:fs/promises';
import { type RecordBatch, RecordBatchFileWriter, type Schema } from 'apache-arrow';
import { temporaryPath } from './temporary-files.js';

/**
 * Writes an Arrow IPC file under a temporary name and renames it into place on `commit`, so a
 * reader never sees a half-written file and a crash leaves the previous file intact.
 *
 * The writer's bytes are drained by our own loop rather than Arrow's `toNodeStream()`: destroying
 * that stream once bytes have flowed waits for a read that never comes, so `abort` never settled
 * (and Node exited with code 13, saying nothing).
 */
export class AtomicArrowFile {
  readonly #writer = new RecordBatchFileWriter();
  readonly #drained: Promise<void>;
  readonly #temporary: string;
  #failure: unknown;
  #finished: Promise<void> | undefined;

  constructor(
    readonly path: string,
    schema: Schema,
  ) {
    this.#temporary = temporaryPath(path);
    this.#writer.reset(undefined, schema);
    this.#drained = drainInto(this.#writer, this.#temporary);
    this.#drained.catch((error: unknown) => (this.#failure = error)); // surfaced by write() and commit()
  }

  /** Queues a batch; throws the write error (no space, no permission) as soon as one has happened. */
  write(batch: RecordBatch): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#writer.write(batch);
  }

  /** Writes the footer and waits until every byte is in the temporary file. */
  finish(): Promise<void> {
    if (!this.#finished) {
      this.#writer.finish();
      this.#writer.close();
      this.#finished = this.#drained;
    }
    return this.#finished;
  }

  /** Finishes (if not yet done) and renames the file into place. */
  async commit(): Promise<void> {
    await this.finish();
    await rename(this.#temporary, this.path);
  }

  /** Stops writing and removes the temporary file; never throws. */
  async abort(): Promise<void> {
    if (!this.#finished) this.#writer.close(); // ends the drain loop; what it still writes goes with the file
    await this.#drained.catch(() => undefined);
    await rm(this.#temporary, { force: true });
  }
}

async function drainInto(chunks: AsyncIterable<Uint8Array>, path: string): Promise<void> {
  const file = await open(path, 'w');
  try {
    for await (const chunk of chunks) await file.write(chunk);
  } finally {
    await file.close();
  }
}
