import { ExperimentError } from './experiment-error.js';

/**
 * JSON text as a person saved it: a UTF-8 byte-order mark (Windows editors write one) is passed
 * over, text that is not UTF-8 (UTF-16's NUL bytes) is named as such, the line never echoes a
 * control character to the terminal, and what `JSON.parse` would take silently (a key given twice,
 * of which it keeps the last; a number too large for a double, which it makes Infinity and which
 * a validator then reports as null) is refused, naming the field.
 */
export function parseJsonText(text: string, source: string): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.includes('\u0000')) throw new ExperimentError(source, 'is not UTF-8 text (it holds NUL bytes: saved as UTF-16?); save it as UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(body) as unknown;
  } catch (error) {
    throw new ExperimentError(source, `is not JSON (${printable((error as Error).message)})`);
  }
  const problem = textProblem(body);
  if (problem) throw new ExperimentError(source, problem);
  return value;
}

/** `text` with control and invisible characters written as \uXXXX escapes. */
export const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** One open object (its keys so far, the last one) or array (the index of its current item). */
type Frame = { keys: Set<string>; key?: string; expectsKey: boolean } | { index: number };

/**
 * The first key given twice in one object, or number beyond a double's range, in `text` (already
 * known to be valid JSON), as "field: problem". One pass, no recursion: tokens are read by regex.
 */
function textProblem(text: string): string | undefined {
  const frames: Frame[] = [];
  const token = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}[\],]/gy;
  for (let at = skipSpace(text, 0); at < text.length; at = skipSpace(text, token.lastIndex)) {
    token.lastIndex = at;
    const match = token.exec(text);
    if (!match) {
      token.lastIndex = at + 1; // `:`, `true`, `false` and `null` carry nothing to check
      continue;
    }
    const [word] = match;
    const frame = frames.at(-1);
    if (word === '{') frames.push({ keys: new Set(), expectsKey: true });
    else if (word === '[') frames.push({ index: 0 });
    else if (word === '}' || word === ']') frames.pop();
    else if (word === ',') {
      if (frame && 'index' in frame) frame.index += 1;
      else if (frame) frame.expectsKey = true;
    } else if (word.startsWith('"') && frame && 'keys' in frame && frame.expectsKey) {
      const key = JSON.parse(word) as string;
      frame.expectsKey = false;
      frame.key = key;
      if (frame.keys.has(key)) return `${fieldName(frames.slice(0, -1))}: ${quoteKey(key)} is given twice (JSON keeps only the last); give it once`;
      frame.keys.add(key);
    } else if (!word.startsWith('"') && !Number.isFinite(Number(word))) {
      return `${fieldName(frames)}: ${word.length > 40 ? `${word.slice(0, 40)}…` : word} is beyond the largest number a double holds (about 1.8e308)`;
    }
  }
  return undefined;
}

/** The path of the value being read, in the experiment's error style (`model.stages[2]`). */
function fieldName(frames: readonly Frame[]): string {
  const path = frames.map((frame) => ('index' in frame ? `[${frame.index}]` : `.${frame.key ?? ''}`)).join('').replace(/^\./, '');
  return path === '' ? 'the document' : printable(path);
}

const quoteKey = (key: string) => printable(JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key));

function skipSpace(text: string, from: number): number {
  let at = from;
  while (at < text.length && (text[at] === ' ' || text[at] === '\n' || text[at] === '\r' || text[at] === '\t' || text[at] === ':')) at += 1;
  return at;
}
