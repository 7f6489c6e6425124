import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Observable, Subject } from 'rxjs';
import { type TensorBoardOptions, tensorBoardRecords, type TrainingEventLike } from '../tensorboard-records.js';

let filesOpened = 0;

/**
 * Passes training events through unchanged while appending them to a new TensorBoard event file in
 * `dir` (`tensorboard --logdir DIR` shows it). Each record is written as its event arrives, so a run
 * that is killed keeps every event before the last. One file per subscription, closed on teardown.
 */
export function writeTensorBoard(dir: string, options: TensorBoardOptions = {}) {
  return <T extends TrainingEventLike>(source: Observable<T>): Observable<T> =>
    new Observable<T>((subscriber) => {
      const folder = resolve(dir);
      mkdirSync(folder, { recursive: true });
      // The name TensorBoard's own writers use: tfevents, time, host, then what makes it unique here.
      const file = join(folder, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}.${process.pid}.${filesOpened++}`);
      const fd = openSync(file, 'a');
      const events = new Subject<TrainingEventLike>();
      subscriber.add(
        events.pipe(tensorBoardRecords(options)).subscribe({
          next: (record) => writeSync(fd, record),
          error: (error: unknown) => subscriber.error(error),
        }),
      );
      subscriber.add(
        source.subscribe({
          next: (event) => {
            events.next(event);
            subscriber.next(event);
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            events.complete();
            subscriber.complete();
          },
        }),
      );
      subscriber.add(() => closeSync(fd));
    });
}
