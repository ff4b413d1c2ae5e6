// Types only: calling the schema's own method keeps zod (95 files) out of core's import.
import type * as z from 'zod';
import { ConfigurationError } from '../errors/configuration-error.js';

/** A JSON Schema object as OpenAPI 3.1 embeds it (JSON Schema 2020-12). */
export type JsonSchema = { [keyword: string]: unknown };

const DEFS_PREFIX = '#/$defs/';
const COMPONENTS_PREFIX = '#/components/schemas/';

/** Points `$ref`s into `$defs` at `components/schemas` instead, renaming where `rename` says. */
function rewriteRefs(node: unknown, rename: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(node)) return node.map((item) => rewriteRefs(item, rename));
  if (typeof node !== 'object' || node === null) return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(DEFS_PREFIX)) {
      const name = value.slice(DEFS_PREFIX.length);
      out[key] = COMPONENTS_PREFIX + (rename.get(name) ?? name);
    } else {
      out[key] = rewriteRefs(value, rename);
    }
  }
  return out;
}

/**
 * Turns zod schemas into the JSON Schemas of one OpenAPI document. Schemas named
 * with `.meta({ id: 'User' })` become `components/schemas/User` and are referenced;
 * the rest are inlined. A named schema whose input and output shapes differ (a
 * default, a transform) gets a second component, `<id>Input`, for requests.
 */
export class SchemaComponents {
  /** Named schemas: `key` compares shapes (refs unrenamed), `schema` is what the document shows. */
  readonly #components = new Map<string, { key: string; schema: JsonSchema }>();

  /** The JSON Schema of `schema` as the client sends it (`input`) or receives it (`output`). */
  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    let converted: JsonSchema;
    try {
      converted = schema.toJSONSchema({
        target: 'draft-2020-12',
        io,
        // Transforms, refinements and custom types have no JSON form: describe them as "any value".
        unrepresentable: 'any',
        reused: 'inline',
      }) as JsonSchema;
    } catch (cause) {
      throw new ConfigurationError(
        `createOpenApiDocument: a schema cannot be converted to JSON Schema (${(cause as Error).message}). Give recursive schemas an id with .meta({ id }).`,
      );
    }
    // A named root comes back as { $ref: '#/$defs/<id>' } with its body among the $defs.
    const { $schema: _dialect, $defs, ...root } = converted;
    const defs = Object.entries(($defs ?? {}) as Record<string, JsonSchema>);
    // Pass 1 names every schema (its id, or `<id>Input` on a clash); pass 2 rewrites refs.
    const identity = new Map<string, string>();
    const rename = new Map<string, string>();
    for (const [name, def] of defs) {
      rename.set(name, this.#nameFor(name, JSON.stringify(rewriteRefs(def, identity)), io));
    }
    for (const [name, def] of defs) {
      const final = rename.get(name) as string;
      if (!this.#components.has(final)) {
        this.#components.set(final, {
          key: JSON.stringify(rewriteRefs(def, identity)),
          schema: rewriteRefs(def, rename) as JsonSchema,
        });
      }
    }
    return rewriteRefs(root, rename) as JsonSchema;
  }

  /** The schema itself when `json` is a `$ref` to a named one (parameters list its properties). */
  dereference(json: JsonSchema): JsonSchema {
    const ref = json.$ref;
    if (typeof ref !== 'string' || !ref.startsWith(COMPONENTS_PREFIX)) return json;
    return this.#components.get(ref.slice(COMPONENTS_PREFIX.length))?.schema ?? json;
  }

  /** Every named schema met so far, by name. */
  toObject(): Record<string, JsonSchema> {
    return Object.fromEntries([...this.#components].map(([name, { schema }]) => [name, schema]));
  }

  /** The id, unless another shape holds it: then `<id>Input` (or `<id>Output`). */
  #nameFor(id: string, key: string, io: 'input' | 'output'): string {
    const taken = this.#components.get(id);
    if (taken === undefined || taken.key === key) return id;
    const alternative = `${id}${io === 'input' ? 'Input' : 'Output'}`;
    const other = this.#components.get(alternative);
    if (other === undefined || other.key === key) return alternative;
    throw new ConfigurationError(
      `createOpenApiDocument: two different schemas are named "${id}"; give each a distinct .meta({ id }).`,
    );
  }
}
