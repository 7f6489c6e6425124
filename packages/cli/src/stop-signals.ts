import { Observable } from 'rxjs';

/** 128 + the signal's number, as a shell reports a process the signal ended. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT_CODES;
/** Two deliveries of one signal closer than this are one keypress (a person cannot press twice so fast). */
const SAME_KEYPRESS_MS = 25;

/**
 * First Ctrl-C (or SIGTERM): emits, so that the run finishes its step, checkpoints and stops. A
 * second: exits at once (checkpoints are written by renames, so that cannot leave a broken one).
 * One Ctrl-C can arrive twice within a millisecond or two (from the terminal, and from npm
 * forwarding it, for `npm start`): a repeat that close is the same keypress, not a second one.
 * `received()` is the signal received, if one was.
 */
export function stopSignals(): { readonly stop: Observable<StopSignal>; received(): StopSignal | undefined } {
  let received: StopSignal | undefined;
  const stop = new Observable<StopSignal>((subscriber) => {
    let signalledAt = -Infinity;
    const onSignal = (name: StopSignal) => () => {
      const now = performance.now();
      const repeat = name === received && now - signalledAt < SAME_KEYPRESS_MS;
      signalledAt = now;
      if (repeat) return;
      if (received) process.exit(SIGNAL_EXIT_CODES[received]);
      received = name;
      console.error(`\nrxvision: ${name}: stopping after the current step and writing a checkpoint (again to quit at once)`);
      subscriber.next(name);
    };
    const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
    process.on('SIGINT', handlers.SIGINT).on('SIGTERM', handlers.SIGTERM);
    return () => process.off('SIGINT', handlers.SIGINT).off('SIGTERM', handlers.SIGTERM);
  });
  return { stop, received: () => received };
}
