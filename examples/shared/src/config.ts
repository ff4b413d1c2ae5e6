import { loadConfig } from '@org/core';
import * as z from 'zod';

const commaList = z.array(
  z
    .string()
    .trim()
    .pipe(z.url({ protocol: /^https?$/ })),
);

/**
 * The environment of every example, as DESIGN.md's example contract lists it, plus
 * `LOG_LEVEL` and `SHUTDOWN_DELAY_MS`. `NODE_ENV` picks the profile: `development`,
 * `test` or, when unset, `production` (the safe choice).
 */
export const ConfigSchema = z
  .object({
    /** Port to listen on. */
    PORT: z.number().int().min(0).max(65_535).default(3000),
    /** The SQLite file; `:memory:` keeps everything in memory for the life of the process. */
    DATABASE_PATH: z.string().min(1).default(':memory:'),
    /** When set, users, refresh families and API keys live in this PostgreSQL database instead. */
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    /** When set, rate limits, login failures and refresh tokens live in this Redis. */
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    /** An admin created at start when both are set and no user has this email. */
    SEED_ADMIN_EMAIL: z.email().optional(),
    SEED_ADMIN_PASSWORD: z.string().min(12).max(1024).optional(),
    /** Origins whose scripts may call the API, comma-separated. Default: none. */
    CORS_ORIGINS: commaList,
    /** Proxies trusted for X-Forwarded-For: a hop count or CIDR list (`loopback,10.0.0.0/8`). Default: none. */
    TRUST_PROXY: z.string().trim().optional(),
    /** Requests per minute per client IP, on every route but the probes and /metrics. */
    RATE_LIMIT_PER_MINUTE: z.number().int().positive().default(60),
    NODE_ENV: z.enum(['development', 'test', 'production']).optional(),
    /** A PEM or JWK private key (ES256, EdDSA, RS256). Default: an ES256 key generated at start. */
    SIGNING_KEY_FILE: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /** Milliseconds between SIGTERM and closing the listener, while /readyz already fails. */
    SHUTDOWN_DELAY_MS: z.number().int().min(0).max(60_000),
  })
  .refine((c) => (c.SEED_ADMIN_EMAIL === undefined) === (c.SEED_ADMIN_PASSWORD === undefined), {
    path: ['SEED_ADMIN_PASSWORD'],
    message: 'set SEED_ADMIN_EMAIL and SEED_ADMIN_PASSWORD together',
  });

/** The validated, frozen configuration of one example process. */
export type ExampleConfig = ReturnType<typeof loadExampleConfig>;

/**
 * Reads the configuration from `env`, reporting every bad variable by name (never
 * its value) in one `ConfigurationError`.
 */
export function loadExampleConfig(env: Readonly<Record<string, string | undefined>> = process.env) {
  return loadConfig({
    schema: ConfigSchema,
    env,
    profiles: {
      production: { LOG_LEVEL: 'info', SHUTDOWN_DELAY_MS: '5000' },
      development: { LOG_LEVEL: 'debug', SHUTDOWN_DELAY_MS: '0' },
      test: { LOG_LEVEL: 'warn', SHUTDOWN_DELAY_MS: '0' },
    },
  });
}

/** `TRUST_PROXY` as `@org/security`'s `trustProxy` option: unset or `false` trusts nobody. */
export function trustProxyOf(value: string | undefined): false | string {
  return value === undefined || value === '' || value === 'false' || value === '0' ? false : value;
}
