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
  if (body.includes('\u0000'))
    throw new ExperimentError(source, 'is not UTF-8 text (it holds NUL bytes: saved as UTF-16?); save it as UTF-8');
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
export const printable = (text: string) =>
  text.replace(
    /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** One open object (its keys so far, the last one) or array (the index of its current item). */
type Frame = { keys: Set<string>; key?: string; expectsKey: boolean } | { index: number };

/**
 * The first key given twice in one object, or number beyond a double's range, in `text` (already
 * known to be valid JSON), as "field: problem". One pass by hand, no recursion and no regex over a
 * string's length: a 50 MB string or millions of escapes are read as one token.
 */
function textProblem(text: string): string | undefined {
  const frames: Frame[] = [];
  for (let at = 0; at < text.length;) {
    const char = text[at]!;
    const frame = frames.at(-1);
    if (char === '"') {
      const end = stringEnd(text, at);
      if (frame && 'keys' in frame && frame.expectsKey) {
        const key = JSON.parse(text.slice(at, end)) as string;
        frame.expectsKey = false;
        if (frame.keys.has(key))
          return `${fieldName(frames.slice(0, -1))}: ${quoteKey(key)} is given twice (JSON keeps only the last); give it once`;
        frame.key = key;
        frame.keys.add(key);
      }
      at = end;
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      NUMBER.lastIndex = at;
      const [word] = NUMBER.exec(text)!;
      if (!Number.isFinite(Number(word)))
        return `${fieldName(frames)}: ${word.length > 40 ? `${word.slice(0, 40)}…` : word} is beyond the largest number a double holds (about 1.8e308)`;
      at += word.length;
    } else {
      if (char === '{') frames.push({ keys: new Set(), expectsKey: true });
      else if (char === '[') frames.push({ index: 0 });
      else if (char === '}' || char === ']') frames.pop();
      else if (char === ',' && frame) {
        if ('index' in frame) frame.index += 1;
        else frame.expectsKey = true;
      }
      at += 1; // whitespace, `:` and the letters of true, false and null carry nothing to check
    }
  }
  return undefined;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** The index after the string that starts at `start` (its opening quote). */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
  return at + 1;
}

/** The path of the value being read, in the experiment's error style (`model.stages[2]`). */
function fieldName(frames: readonly Frame[]): string {
  const path = frames
    .map((frame) => ('index' in frame ? `[${frame.index}]` : `.${frame.key ?? ''}`))
    .join('')
    .replace(/^\./, '');
  return path === '' ? 'the document' : printable(path);
}

const quoteKey = (key: string) => printable(JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key));
