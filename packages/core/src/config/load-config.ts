import type * as z from 'zod';
import { ConfigurationError } from '../errors/configuration-error.js';
import { coerceStrings, planCoercion } from '../validation/coerce.js';
import { toJsonPointer } from '../validation/validate.js';

/** The deployment profiles, chosen by `NODE_ENV`. */
export type Profile = 'development' | 'test' | 'production';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions<S extends z.ZodObject> {
  /** The variables, as a zod object keyed by variable name. Strings are coerced to numbers and booleans where the schema says so. */
  schema: S;
  /** Where variables are read from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** The profile. @default NODE_ENV when it names one, else 'production' (the safe choice) */
  profile?: Profile;
  /** Per-profile defaults, as the strings the environment would hold. A set variable wins. */
  profiles?: Partial<Record<Profile, Readonly<Record<string, string>>>>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function profileOf(nodeEnv: string | undefined): Profile {
  return nodeEnv === 'development' || nodeEnv === 'test' ? nodeEnv : 'production';
}

/**
 * Loads typed, frozen configuration from the environment, like pydantic's
 * `BaseSettings`: every invalid or missing variable is reported at once, by name,
 * and no value (secret or not) is ever echoed.
 *
 * @example
 * ```ts
 * const config = loadConfig({
 *   schema: z.object({ PORT: z.number().int().default(3000), DATABASE_PATH: z.string() }),
 *   profiles: { development: { DATABASE_PATH: ':memory:' } },
 * });
 * config.PORT; // number
 * ```
 */
export function loadConfig<S extends z.ZodObject>(
  options: LoadConfigOptions<S>,
): Readonly<z.output<S>> & {
  /** The profile the values were read with. */
  readonly profile: Profile;
} {
  const env = options.env ?? process.env;
  const profile = options.profile ?? profileOf(env.NODE_ENV);
  const defaults = options.profiles?.[profile] ?? {};
  const plan = planCoercion(options.schema);
  const get = (key: string): string | undefined => {
    const value = env[key];
    return value === undefined || value === '' ? defaults[key] : value;
  };
  const raw = coerceStrings(
    plan,
    get,
    (key) => (get(key) ?? '').split(',').filter(Boolean),
    plan.keys(),
  );
  const result = options.schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const [name, ...rest] = issue.path;
      const where =
        rest.length > 0 ? `${String(name)}${toJsonPointer(rest)}` : String(name ?? '(root)');
      const missing = name !== undefined && get(String(name)) === undefined;
      return `${where}: ${missing ? 'is required but not set' : `invalid (${issue.message.replace(/received .*/, '').trim()})`}`;
    });
    // Every bad variable at once, by name; values are never echoed.
    throw new ConfigurationError(
      `Invalid configuration (profile "${profile}"); fix these environment variables:\n${problems
        .map((p) => `  - ${p}`)
        .join('\n')}`,
      { problems },
    );
  }
  return deepFreeze({ ...(result.data as object), profile }) as Readonly<z.output<S>> & {
    readonly profile: Profile;
  };
}
