import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ConfigurationError } from '../errors/configuration-error.js';
import { loadConfig } from './load-config.js';

const schema = z.object({
  PORT: z.number().int().min(1).max(65535).default(3000),
  DATABASE_PATH: z.string().min(1),
  JWT_SECRET: z.string().min(32),
  DEBUG: z.boolean().default(false),
  CORS_ORIGINS: z.array(z.string()).default([]),
});

describe('loadConfig', () => {
  it('coerces strings to the schema types and freezes the result', () => {
    const config = loadConfig({
      schema,
      env: {
        PORT: '8080',
        DATABASE_PATH: '/data/app.db',
        JWT_SECRET: 'x'.repeat(32),
        DEBUG: 'true',
        CORS_ORIGINS: 'https://a.example,https://b.example',
      },
    });
    expect(config).toMatchObject({
      PORT: 8080,
      DEBUG: true,
      CORS_ORIGINS: ['https://a.example', 'https://b.example'],
      profile: 'production',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.CORS_ORIGINS)).toBe(true);
  });

  it('reports every bad variable at once, by name, without echoing values', () => {
    const secret = 'short-secret-value';
    let error: unknown;
    try {
      loadConfig({ schema, env: { PORT: 'eighty', JWT_SECRET: secret } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const message = (error as ConfigurationError).message;
    expect((error as ConfigurationError).problems).toHaveLength(3);
    expect(message).toMatch(/PORT: invalid/);
    expect(message).toMatch(/DATABASE_PATH: is required but not set/);
    expect(message).toMatch(/JWT_SECRET: invalid/);
    expect(message).not.toContain(secret);
    expect(message).not.toContain('eighty');
    expect((error as ConfigurationError).code).toBe('ERR_CONFIGURATION');
  });

  it('applies profile defaults chosen by NODE_ENV, with set variables winning', () => {
    const profiles = { development: { DATABASE_PATH: ':memory:', JWT_SECRET: 'd'.repeat(32) } };
    const dev = loadConfig({ schema, env: { NODE_ENV: 'development', PORT: '4000' }, profiles });
    expect(dev).toMatchObject({ profile: 'development', DATABASE_PATH: ':memory:', PORT: 4000 });
    expect(() => loadConfig({ schema, env: { NODE_ENV: 'production' }, profiles })).toThrow(
      ConfigurationError,
    );
    expect(() => loadConfig({ schema, env: {}, profiles })).toThrow(/profile "production"/);
  });
});
