import type { EpochRecord } from '@rxvision/metrics';
import { Observable } from 'rxjs';
import { eventRecord } from './event-record.js';
import { fileVersionEvent, scalarsEvent, textEvent } from './summary-event.js';

/**
 * The training events this package reads (those of `@rxvision/train`'s `fit`, by shape); any other
 * event type is passed over.
 */
export type TrainingEventLike =
  | { readonly type: 'batch'; readonly epoch: number; readonly step: number; readonly loss: number; readonly learningRate: number }
  | { readonly type: 'epoch'; readonly record: EpochRecord }
  | { readonly type: string };

export interface TensorBoardOptions {
  /**
   * Batches per epoch. Steps are then numbered from the epoch and the step within it, so a resumed
   * run continues the same x axis; without it they are counted from the first event seen.
   */
  readonly stepsPerEpoch?: number;
  /** Markdown shown in TensorBoard's Text tab under `settings` (e.g. the experiment as JSON). */
  readonly settings?: string;
  /** Wall time in seconds since 1970 (default: the clock); tests pin it. */
  readonly now?: () => number;
}

/**
 * Turns training events into TensorBoard event-file records (TFRecord-framed `Event` protos): the
 * file-version header and the settings on subscription, then per step `train/loss` and
 * `train/learning_rate`, and per epoch `epoch/*` at the epoch's number. Bytes only: where they go
 * is the caller's (`@rxvision/tensorboard/node` appends them to a file).
 */
export function tensorBoardRecords(options: TensorBoardOptions = {}) {
  const now = options.now ?? (() => Date.now() / 1000);
  return (source: Observable<TrainingEventLike>): Observable<Uint8Array> =>
    new Observable<Uint8Array>((subscriber) => {
      let counted = 0; // per subscription
      subscriber.next(eventRecord(fileVersionEvent(now())));
      if (options.settings !== undefined) subscriber.next(eventRecord(textEvent(now(), 0, 'settings', options.settings)));
      return source.subscribe({
        next: (event) => {
          if (isBatch(event)) {
            counted++;
            const step = options.stepsPerEpoch === undefined ? counted : (event.epoch - 1) * options.stepsPerEpoch + event.step;
            subscriber.next(
              eventRecord(scalarsEvent(now(), step, { 'train/loss': event.loss, 'train/learning_rate': event.learningRate })),
            );
          } else if (isEpoch(event)) {
            const { record } = event;
            const scalars: Record<string, number> = {
              'epoch/train_loss': record.trainLoss,
              'epoch/val_loss': record.valLoss,
              'epoch/val_accuracy': record.valAccuracy,
              'epoch/learning_rate': record.learningRate,
              'epoch/seconds': record.seconds,
            };
            for (const [name, value] of Object.entries(record.metrics ?? {})) scalars[`epoch/val_${name}`] = value;
            subscriber.next(eventRecord(scalarsEvent(now(), record.epoch, scalars)));
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

function isBatch(event: TrainingEventLike): event is Extract<TrainingEventLike, { type: 'batch' }> {
  return event.type === 'batch';
}

function isEpoch(event: TrainingEventLike): event is Extract<TrainingEventLike, { type: 'epoch' }> {
  return event.type === 'epoch';
}
