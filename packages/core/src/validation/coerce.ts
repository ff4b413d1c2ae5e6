import type * as z from 'zod';

type Kind =
  | 'string'
  | 'number'
  | 'boolean'
  | 'bigint'
  | 'array-string'
  | 'array-number'
  | 'array-boolean';

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}

const defOf = (schema: z.ZodType): SchemaDef => schema.def as unknown as SchemaDef;

/** Unwraps optional/default/nullable/pipe layers to the type a string must become. */
function baseType(schema: z.ZodType): SchemaDef {
  let def = defOf(schema);
  for (let i = 0; i < 16; i++) {
    if (def.innerType !== undefined) def = defOf(def.innerType);
    else if (def.type === 'pipe' && def.in !== undefined) def = defOf(def.in);
    else break;
  }
  return def;
}

function scalarKind(def: SchemaDef): 'string' | 'number' | 'boolean' | 'bigint' {
  return def.type === 'number' || def.type === 'boolean' || def.type === 'bigint'
    ? def.type
    : 'string';
}

/** How each key of an object schema is coerced from strings; computed once per schema. */
export type CoercionPlan = ReadonlyMap<string, Kind>;

/** Builds the {@link CoercionPlan} of an object schema (empty for anything else). */
export function planCoercion(schema: z.ZodType): CoercionPlan {
  const plan = new Map<string, Kind>();
  const def = baseType(schema);
  if (def.type !== 'object' || def.shape === undefined) return plan;
  for (const [key, field] of Object.entries(def.shape)) {
    const base = baseType(field);
    if (base.type === 'array' && base.element !== undefined) {
      const element = scalarKind(baseType(base.element));
      plan.set(
        key,
        element === 'number'
          ? 'array-number'
          : element === 'boolean'
            ? 'array-boolean'
            : 'array-string',
      );
    } else {
      plan.set(key, scalarKind(base));
    }
  }
  return plan;
}

function coerceScalar(value: string, kind: 'string' | 'number' | 'boolean' | 'bigint'): unknown {
  switch (kind) {
    case 'string':
      return value;
    case 'number': {
      // An empty or non-numeric string stays a string so the schema reports it.
      const n = value.trim() === '' ? Number.NaN : Number(value);
      return Number.isNaN(n) ? value : n;
    }
    case 'boolean':
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      return value;
    case 'bigint':
      try {
        return BigInt(value);
      } catch {
        return value;
      }
  }
}

/**
 * Turns string pairs (a query string, the environment) into an object whose values
 * have the types the schema expects: `limit=10` becomes the number 10.
 */
export function coerceStrings(
  plan: CoercionPlan,
  get: (key: string) => string | undefined,
  getAll: (key: string) => string[],
  keys: Iterable<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (key === '__proto__' || key in out) continue;
    const kind = plan.get(key) ?? 'string';
    if (kind.startsWith('array-')) {
      const element = kind.slice(6) as 'string' | 'number' | 'boolean';
      out[key] = getAll(key).map((v) => coerceScalar(v, element));
      continue;
    }
    const value = get(key);
    if (value !== undefined)
      out[key] = coerceScalar(value, kind as 'string' | 'number' | 'boolean' | 'bigint');
  }
  return out;
}
