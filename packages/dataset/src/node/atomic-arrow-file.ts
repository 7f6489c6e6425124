import { open, rename, rm } from 'node:fs/promises';
import type { FolderClaim } from '@rxvision/folder';
import { type RecordBatch, RecordBatchFileWriter, type Schema } from 'apache-arrow';

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
  /** Bytes handed to the writer and not yet in the file (roughly: batch buffers, not framing). */
  #pending = 0;
  #waiting: (() => void)[] = [];

  /** `claim` holds the folder of `path`: the temporary is the claim's, and the rename checks it is still held. */
  constructor(
    readonly path: string,
    readonly schema: Schema,
    readonly claim: FolderClaim,
  ) {
    this.#temporary = claim.temporaryPath(path);
    this.#writer.reset(undefined, schema);
    // The failure is kept before the loop ends (ending it closes the writer's queue), so that write()
    // throws the disk's error (ENOSPC), not Arrow's "AsyncQueue is closed".
    this.#drained = drainInto(
      this.#writer,
      this.#temporary,
      (bytes) => {
        this.#pending = Math.max(0, this.#pending - bytes);
        for (const wake of this.#waiting.splice(0)) wake();
      },
      (error) => (this.#failure ??= error),
    );
    this.#drained
      .catch((error: unknown) => (this.#failure ??= error))
      .finally(() => {
        for (const wake of this.#waiting.splice(0)) wake();
      }); // surfaced by write() and commit()
  }

  /** Queues a batch; throws the write error (no space, no permission) as soon as one has happened. */
  write(batch: RecordBatch): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#pending += batch.data.children.reduce((sum, child) => sum + byteLength(child), 0);
    try {
      this.#writer.write(batch);
    } catch (error) {
      throw this.#failure ?? error;
    }
  }

  /** Resolves once at most `bytes` are waiting to be written: how a writer keeps its memory bounded. */
  async drained(bytes: number): Promise<void> {
    while (this.#pending > bytes && this.#failure === undefined && !this.#finished)
      await new Promise<void>((wake) => this.#waiting.push(wake));
    if (this.#failure !== undefined) throw this.#failure;
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
    await this.claim.check();
    await rename(this.#temporary, this.path);
  }

  /** Stops writing and removes the temporary file; never throws. */
  async abort(): Promise<void> {
    try {
      if (!this.#finished) this.#writer.close(); // ends the drain loop; what it still writes goes with the file
    } catch {
      // Closed already: the drain loop ended on a write error.
    }
    await this.#drained.catch(() => undefined);
    await rm(this.#temporary, { force: true }).catch(() => undefined);
  }
}

/** The bytes of a column's buffers, its children's included. */
function byteLength(data: { values?: ArrayBufferView; children: readonly unknown[] }): number {
  return (data.values?.byteLength ?? 0) + data.children.reduce<number>((sum, child) => sum + byteLength(child as typeof data), 0);
}

async function drainInto(
  chunks: AsyncIterable<Uint8Array>,
  path: string,
  onWritten: (bytes: number) => void,
  onFailed: (error: unknown) => void,
): Promise<void> {
  const file = await open(path, 'w').catch((error: unknown) => {
    onFailed(error);
    throw error;
  });
  try {
    for await (const chunk of chunks) {
      try {
        await file.write(chunk);
      } catch (error) {
        onFailed(error);
        throw error;
      }
      onWritten(chunk.length);
    }
  } finally {
    await file.close();
  }
}
