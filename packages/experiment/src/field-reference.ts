import { experimentJsonSchema } from './experiment.js';

interface JsonSchema {
  readonly type?: string;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly description?: string;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
}

/**
 * The experiment file's fields as a Markdown table (field, what it takes, default, what it does),
 * made from the JSON Schema, so the package's README can never drift from what is validated.
 */
export function experimentFieldReference(): string {
  const schema = experimentJsonSchema() as JsonSchema;
  const rows = Object.entries(schema.properties ?? {}).map(([name, field]) => {
    const required = schema.required?.includes(name) ? ' (required)' : '';
    const fallback = field.default === undefined ? '' : `\`${JSON.stringify(field.default)}\``;
    return `| \`${name}\`${required} | ${shape(field)} | ${fallback} | ${(field.description ?? '').replaceAll('|', '\\|')} |`;
  });
  return ['| field | takes | default | what it does |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** A field's shape in a few words: `"tutorial" \| "mlp" …` for typed objects, `integer`, `list of …`. */
function shape(field: JsonSchema): string {
  const variants = field.oneOf ?? field.anyOf;
  if (variants) return variants.map(shape).join(' or ');
  const type = field.properties?.type;
  const kinds = type?.const !== undefined ? [type.const] : type?.enum;
  if (kinds) {
    const others = Object.keys(field.properties ?? {}).filter((key) => key !== 'type');
    return `\`{ "type": ${kinds.map((kind) => JSON.stringify(kind)).join(' \\| ')}${others.map((key) => `, ${key}`).join('')} }\``;
  }
  if (field.type === 'array') return `list of ${field.items ? shape(field.items) : 'values'}`;
  if (field.type === 'object') return `\`{ ${Object.keys(field.properties ?? {}).join(', ')} }\``;
  return field.type ?? 'any';
}
