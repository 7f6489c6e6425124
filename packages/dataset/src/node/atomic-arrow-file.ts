import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type RecordBatch, RecordBatchFileWriter, type Schema } from 'apache-arrow';

/**
 * Writes an Arrow IPC file under a temporary name and renames it into place on `commit`, so a
 * reader never sees a half-written file and a crash leaves the previous file intact.
 */
export class AtomicArrowFile {
  readonly #writer: RecordBatchFileWriter;
  readonly #bytes: Readable;
  readonly #written: Promise<void>;
  readonly #temporary: string;

  constructor(
    readonly path: string,
    schema: Schema,
  ) {
    this.#temporary = `${path}.${process.pid}.tmp`;
    this.#writer = new RecordBatchFileWriter();
    this.#writer.reset(undefined, schema);
    this.#bytes = this.#writer.toNodeStream();
    this.#written = pipeline(this.#bytes, createWriteStream(this.#temporary));
    this.#written.catch(() => undefined); // surfaced by commit()
  }

  write(batch: RecordBatch): void {
    this.#writer.write(batch);
  }

  async commit(): Promise<void> {
    this.#writer.finish();
    this.#writer.close();
    await this.#written;
    await rename(this.#temporary, this.path);
  }

  async abort(): Promise<void> {
    this.#bytes.destroy();
    await this.#written.catch(() => undefined);
    await rm(this.#temporary, { force: true });
  }
}
