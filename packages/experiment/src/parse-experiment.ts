import { asSchedule, checkSchedule } from '@rxvision/train';
import type { z } from 'zod';
import { ExperimentError } from './experiment-error.js';
import { type Experiment, experimentSchema } from './experiment.js';
import { parseJsonText } from './json-text.js';

/** Validates `value` (a parsed JSON document) as an experiment; `source` names it in errors. */
export function parseExperiment(value: unknown, source: string): Experiment {
  // `$schema` is for the file's editor: the path means nothing once the experiment is elsewhere (a run folder).
  const { $schema: _schema, ...experiment } = validateDocument(experimentSchema, value, source);
  // The rules between fields are the schedule's own, asked here so that `check` refuses what `train` would.
  try {
    checkSchedule(asSchedule(experiment.schedule));
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ExperimentError(source, `schedule: ${error.message.replace(/^schedule \w+: /, '')}`);
  }
  return experiment;
}

/**
 * Validates a document against any zod schema with the experiment's error style: a line for each
 * problem, naming the source, the field and what it allows (`root` names the document itself). For formats built
 * on experiments, such as sweeps.
 */
export function validateDocument<T extends z.ZodType>(schema: T, value: unknown, source: string, root = 'the experiment'): z.output<T> {
  // Checked before the schema walks it: a document nested thousands deep would overflow the stack.
  const levels = nesting(value);
  if (levels > MAX_NESTING)
    throw new ExperimentError(source, `${root} is nested more than ${MAX_NESTING} levels deep; no field goes that deep`);
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  // Every problem, a line each: a file is fixed in one pass, not one error per run.
  const [first, ...rest] = result.error.issues.map((issue) => describe(issue, [], root));
  throw new ExperimentError(source, first!, rest);
}

/** Parses experiment JSON text (see parseJsonText). */
export function parseExperimentText(text: string, source: string): Experiment {
  return parseExperiment(parseJsonText(text, source), source);
}

/** Deeper than any experiment or sweep file (they go four or five levels). */
const MAX_NESTING = 32;

/** How deep arrays and objects nest in `value` (0 for a plain value), walked without recursion. */
function nesting(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [next, level] = pending.pop()!;
    if (typeof next !== 'object' || next === null) continue;
    deepest = Math.max(deepest, level + 1);
    if (deepest > MAX_NESTING) return deepest;
    for (const child of Object.values(next)) pending.push([child, level + 1]);
  }
  return deepest;
}

/** A value as JSON, cut short: an error line quotes what was given, not 50 MB of it. */
export function quote(value: unknown, max = 80): string {
  if (typeof value === 'string')
    return value.length > max
      ? `${JSON.stringify(value.slice(0, max)).slice(0, -1)}…" (${value.length.toLocaleString('en-US')} characters)`
      : JSON.stringify(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length.toLocaleString('en-US')} characters)` : text;
}

function describe(issue: z.core.$ZodIssue, parent: readonly PropertyKey[] = [], root = 'the experiment'): string {
  const path = [...parent, ...issue.path];
  const field =
    path.length === 0
      ? root
      : path
          .map((key) => (typeof key === 'number' ? `[${key}]` : String(key)))
          .join('.')
          .replaceAll('.[', '[');
  const got = input(issue) === undefined ? '' : `, got ${quote(input(issue))}`;
  switch (issue.code) {
    case 'invalid_union': {
      const { options, discriminator } = issue as { options?: unknown[]; discriminator?: string };
      if (discriminator && options) {
        const value = (input(issue) as Record<string, unknown> | undefined)?.[discriminator];
        return `${field}: expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${value === undefined ? 'none' : quote(value)}`;
      }
      // A plain union (a schedule: phases or a typed schedule): the problem of the branch that
      // matches the value's shape, else every shape it may take.
      const branches = issue.errors;
      const branch = branches.find((errors) => errors.every((e) => e.code !== 'invalid_type' || e.path.length > 0));
      if (branch?.[0]) return describe(branch[0], path, root);
      return `${field}: expected ${branches.map((errors) => (errors[0] as { expected?: string } | undefined)?.expected ?? 'another shape').join(' or ')}${got}`;
    }
    case 'invalid_value':
      return `${field}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    case 'unrecognized_keys':
      return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys
        .slice(0, 5)
        .map((key) => quote(key))
        .join(', ')}${issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : ''}`;
    case 'invalid_type':
      return input(issue) === undefined ? `${field}: missing (expected ${issue.expected})` : `${field}: expected ${issue.expected}${got}`;
    case 'too_small':
    case 'too_big': {
      const { minimum, maximum, inclusive } = issue as { minimum?: number | bigint; maximum?: number | bigint; inclusive?: boolean };
      const bound = issue.code === 'too_small' ? `${inclusive ? '≥' : '>'} ${minimum}` : `${inclusive ? '≤' : '<'} ${maximum}`;
      const given = input(issue);
      const what = Array.isArray(given)
        ? `a list of length ${bound}`
        : typeof given === 'string'
          ? `text of length ${bound}`
          : `a number ${bound}`;
      // A limit's reason, where the schema gives one (zod's own messages start "Too big" or "Too small").
      const why = /^Too (big|small)/.test(issue.message) ? '' : ` (${issue.message})`;
      return `${field}: expected ${what}${why}${got}`;
    }
    default:
      return `${field}: ${issue.message}${got}`;
  }
}

const input = (issue: z.core.$ZodIssue): unknown => (issue as { input?: unknown }).input;
