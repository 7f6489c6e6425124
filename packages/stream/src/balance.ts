import { createRandom } from '@rxvision/dataset';
import { map, type Observable } from 'rxjs';
import { epochSeed } from './shuffle.js';

export interface BalanceOptions {
  readonly seed: number;
  /** Each epoch draws its own rows, from seed and epoch alone. */
  readonly epoch: number;
  /** The class of a row. */
  readonly labelOf: (row: number) => number;
}

/**
 * A class-balanced sampler, as PyTorch's WeightedRandomSampler with each row weighted by one over
 * its class's count (with replacement, as many draws as rows): each draw picks a class uniformly,
 * then one of its rows, so every class is drawn as often. Replaces each index array it receives.
 */
export function balance(options: BalanceOptions) {
  return (source: Observable<Uint32Array>): Observable<Uint32Array> =>
    source.pipe(
      map((rows) => {
        const byClass = new Map<number, number[]>();
        for (const row of rows) {
          const label = options.labelOf(row);
          const members = byClass.get(label);
          if (members) members.push(row);
          else byClass.set(label, [row]);
        }
        const classes = [...byClass.keys()].sort((a, b) => a - b).map((label) => byClass.get(label)!);
        const random = createRandom(epochSeed(options.seed ^ 0x2545f491, options.epoch));
        return Uint32Array.from(rows, () => {
          const members = classes[random.nextInt(classes.length)]!;
          return members[random.nextInt(members.length)]!;
        });
      }),
    );
}
