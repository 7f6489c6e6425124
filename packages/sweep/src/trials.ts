import { createRandom, type Random } from '@rxvision/dataset';
import { ExperimentError, type Experiment, parseExperiment } from '@rxvision/experiment';
import type { Distribution, Sweep } from './sweep-file.js';

/** One run of a sweep: its name, the values it sets, and its whole experiment. */
export interface Trial {
  /** `trial-000`, … in expansion order: stable for a given sweep file. */
  readonly name: string;
  /** The varied fields and their values, by dotted path. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly experiment: Experiment;
}

/**
 * The sweep's trials: every combination of the grid (first field slowest), each with `samples`
 * random draws of the random fields, laid over the base experiment and validated. An invalid trial
 * fails the whole sweep before anything runs, naming the trial and its field.
 */
export function expandTrials(sweep: Sweep, base: Readonly<Record<string, unknown>>, source: string): Trial[] {
  const random = createRandom(sweep.seed);
  const gridFields = Object.entries(sweep.grid);
  const combinations = gridFields.reduce<Record<string, unknown>[]>(
    (partial, [path, values]) => partial.flatMap((settings) => values.map((value) => ({ ...settings, [path]: value }))),
    [{}],
  );
  const samples = Object.keys(sweep.random).length > 0 ? sweep.samples : 1;
  const trials: Trial[] = [];
  for (const combination of combinations) {
    for (let sample = 0; sample < samples; sample++) {
      const settings = { ...combination };
      for (const [path, distribution] of Object.entries(sweep.random)) settings[path] = draw(distribution, random);
      const name = `trial-${String(trials.length).padStart(3, '0')}`;
      let experiment = structuredClone(base) as Record<string, unknown>;
      for (const [path, value] of Object.entries(settings)) experiment = setPath(experiment, path, value, `${source} (${name})`);
      // What sets the trial apart comes first, so that run lists (the dashboard's) tell trials apart.
      if (Object.keys(settings).length > 0 && !('description' in settings))
        experiment.description = [`${name} of a sweep: ${describeSettings(settings)}`, base.description]
          .filter((part) => typeof part === 'string')
          .join('. ');
      try {
        trials.push({ name, settings, experiment: parseExperiment(experiment, `${source} (${name}: ${describeSettings(settings)})`) });
      } catch (error) {
        if (error instanceof ExperimentError) throw error;
        throw new ExperimentError(`${source} (${name})`, (error as Error).message);
      }
    }
  }
  return trials;
}

/** `lr=0.1, model.stages=[16,32]`: a trial's settings in one short line. */
export function describeSettings(settings: Readonly<Record<string, unknown>>): string {
  return Object.entries(settings)
    .map(([path, value]) => `${path}=${JSON.stringify(value)}`)
    .join(', ');
}

function draw(distribution: Distribution, random: Random): unknown {
  if ('choice' in distribution) return distribution.choice[random.nextInt(distribution.choice.length)];
  if ('integer' in distribution) {
    const [low, high] = distribution.integer;
    return low + random.nextInt(high - low + 1);
  }
  if ('logUniform' in distribution) {
    const [low, high] = distribution.logUniform;
    return Math.exp(Math.log(low) + random.nextFloat() * (Math.log(high) - Math.log(low)));
  }
  const [low, high] = distribution.uniform;
  return low + random.nextFloat() * (high - low);
}

/** A copy of `target` with the dotted `path` set; a missing object on the way is created. */
function setPath(target: Record<string, unknown>, path: string, value: unknown, source: string): Record<string, unknown> {
  const keys = path.split('.');
  if (keys.some((key) => key === '' || key === '__proto__' || key === 'constructor' || key === 'prototype'))
    throw new ExperimentError(source, `"${path}" is not a field path (dotted names, like optimizer.momentum)`);
  const copy = { ...target };
  let at: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    if (next !== undefined && (typeof next !== 'object' || next === null || Array.isArray(next)))
      throw new ExperimentError(source, `cannot set ${path}: ${key} is ${JSON.stringify(next)}, not an object`);
    at[key] = { ...(next as Record<string, unknown> | undefined) };
    at = at[key] as Record<string, unknown>;
  }
  at[keys.at(-1)!] = value;
  return copy;
}
