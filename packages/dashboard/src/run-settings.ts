/** Fields of a stored experiment that say where it came from, not how it trains. */
const NOT_SETTINGS = new Set(['description', '$schema', 'source']);

/** `{ a: { b: 1 } }` as `{ 'a.b': 1 }`: every leaf by its dotted path; lists as JSON text. */
export function flattenSettings(value: unknown, prefix = '', into: Record<string, number | string> = {}): Record<string, number | string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flattenSettings(inner, prefix ? `${prefix}.${key}` : key, into);
  } else if (prefix && !NOT_SETTINGS.has(prefix)) {
    into[prefix] = typeof value === 'number' || typeof value === 'string' ? value : JSON.stringify(value);
  }
  return into;
}

/** Each experiment's settings, only those whose values differ between them. */
export function differingSettings(experiments: readonly unknown[]): Record<string, number | string>[] {
  const flat = experiments.map((experiment) => flattenSettings(experiment ?? {}));
  const paths = [...new Set(flat.flatMap((settings) => Object.keys(settings)))].filter(
    (path) => new Set(flat.map((settings) => JSON.stringify(settings[path] ?? null))).size > 1,
  );
  return flat.map((settings) => Object.fromEntries(paths.filter((path) => path in settings).map((path) => [path, settings[path]!])));
}
