import { validateDocument } from '@rxvision/experiment';
import { z } from 'zod';

/** A value drawn at random for each trial, from the sweep's seed. */
const distribution = z.union([
  z.strictObject({ uniform: z.tuple([z.number(), z.number()]) }),
  /** Uniform in log space: learning rates, weight decays. */
  z.strictObject({ logUniform: z.tuple([z.number().positive(), z.number().positive()]) }),
  z.strictObject({ choice: z.array(z.unknown()).min(1) }),
  z.strictObject({ integer: z.tuple([z.number().int(), z.number().int()]) }),
]);

const mode = z.enum(['max', 'min']).optional().describe('Whether higher or lower is better; default min for a loss, max otherwise.');
const metric = z
  .string()
  .default('valAccuracy')
  .describe("The epoch record's figure to compare: valAccuracy, valLoss, trainLoss, or a metric such as top5.");

/** Stops losing trials early: asynchronous successive halving, or the median stopping rule. */
const scheduler = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('asha'),
    metric,
    mode,
    gracePeriod: z.number().int().positive().default(1).describe('Epochs every trial gets before its first rung.'),
    reductionFactor: z
      .number()
      .int()
      .min(2)
      .default(3)
      .describe('Keep the best 1/reductionFactor of the trials at each rung; rungs are gracePeriod·reductionFactor^k epochs.'),
    brackets: z
      .number()
      .int()
      .positive()
      .default(1)
      .describe('Brackets of rungs, trial i in bracket i mod brackets (bracket b starts reductionFactor^b times later).'),
  }),
  z.strictObject({
    type: z.literal('median'),
    metric,
    mode,
    gracePeriod: z.number().int().positive().default(1).describe('Epochs before a trial can be stopped.'),
    minSamples: z.number().int().positive().default(3).describe('Earlier trials that must have got as far before a trial is compared.'),
  }),
]);

/**
 * A sweep: a base experiment and the fields to vary, by dotted path (`optimizer.momentum`,
 * `model.stages`, `schedule.peak`). Every combination of `grid`'s lists is a trial; with `random`,
 * `samples` trials per combination draw those fields from their distributions, seeded by `seed`.
 */
export const sweepSchema = z.strictObject({
  description: z.string().optional(),
  /** An experiment (a path to its file, relative to the sweep file, or the experiment itself). */
  base: z.union([z.string(), z.record(z.string(), z.unknown())]),
  grid: z.record(z.string(), z.array(z.unknown()).min(1)).default({}),
  random: z.record(z.string(), distribution).default({}),
  /** Random trials per grid combination (with `random`); default 1. */
  samples: z.number().int().positive().default(1),
  seed: z.number().int().default(0),
  /** Trials that run at once on one machine. */
  concurrency: z.number().int().positive().default(1),
  /** Stop losing trials early (each trial's schedule is its most epochs); none: every trial runs to its end. */
  scheduler: scheduler.optional(),
});

export type SweepInput = z.input<typeof sweepSchema>;
export type Sweep = z.output<typeof sweepSchema>;
export type Distribution = z.output<typeof distribution>;
export type SchedulerSpec = z.output<typeof scheduler>;

/** Validates a parsed sweep file; errors name `source` and the field, in one line. */
export function parseSweep(value: unknown, source: string): Sweep {
  return validateDocument(sweepSchema, value, source, 'the sweep');
}
