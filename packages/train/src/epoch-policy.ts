import type { History } from '@rxvision/metrics';
import { type EndReason, type StoppingOptions, stopReason } from './stopping.js';

/**
 * What training does before an epoch: go on, end there (and why), or pause: stop checkpointed,
 * to be resumed (and asked again) later.
 */
export type EpochDecision =
  | { readonly action: 'continue' }
  | { readonly action: 'end'; readonly reason: Exclude<EndReason, 'completed'> }
  | { readonly action: 'pause'; readonly by: 'request' | 'scheduler' };

const CONTINUE: EpochDecision = { action: 'continue' };

/**
 * The one policy asked before every epoch, the first of a resumed run included: a requested stop
 * pauses; then the run's own rules (early stopping, the time budget) may end it; then its trial
 * policy (a sweep's ASHA), asked only at an epoch's start after at least one epoch, may end or
 * pause it. Every answer depends on the history only, so a resumed run is asked what the
 * uninterrupted one was and ends where it did.
 */
export async function beforeEpoch(
  history: History,
  options: StoppingOptions,
  { requested, atEpochStart }: { readonly requested: boolean; readonly atEpochStart: boolean },
): Promise<EpochDecision> {
  if (requested) return { action: 'pause', by: 'request' };
  const reason = stopReason(history, options);
  if (reason) return { action: 'end', reason };
  if (!options.trialPolicy || history.length === 0 || !atEpochStart) return CONTINUE;
  const answer = await options.trialPolicy([...history]);
  if (answer === 'stop') return { action: 'end', reason: 'scheduler' };
  if (answer === 'pause') return { action: 'pause', by: 'scheduler' };
  return CONTINUE;
}
