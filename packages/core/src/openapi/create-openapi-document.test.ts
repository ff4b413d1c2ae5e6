import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { defineDependency } from '../dependency/dependency.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import {
  requestBody,
  requestHeaders,
  requestParams,
  requestQuery,
} from '../validation/validate.js';
import { createOpenApiDocument } from './create-openapi-document.js';

const User = z
  .object({ id: z.string(), email: z.email(), name: z.string().nullable() })
  .meta({ id: 'TestUser', description: 'A user.' });
const Register = z.object({ email: z.email(), password: z.string().min(12), name: z.string() });
const info = { title: 'Test API', version: '1.0.0' };

type Operation = {
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { required: boolean; content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
  security?: unknown;
  summary?: string;
};
const operation = (doc: { paths: Record<string, unknown> }, path: string, method: string) =>
  (doc.paths[path] as Record<string, Operation>)[method] as Operation;

describe('createOpenApiDocument', () => {
  it('documents a body from the requestBody schema the route validates with', () => {
    const doc = createOpenApiDocument({
      info,
      routes: [
        {
          method: 'POST',
          path: '/users',
          summary: 'Register',
          dependencies: { input: requestBody(Register) },
          responses: { 201: { description: 'Created', schema: User }, 409: 'Email taken' },
        },
      ],
    });
    expect(doc.openapi).toBe('3.1.1');
    const op = operation(doc, '/users', 'post');
    expect(op.summary).toBe('Register');
    expect(op.requestBody?.required).toBe(true);
    expect(op.requestBody?.content['application/json']?.schema).toMatchObject({
      type: 'object',
      required: ['email', 'password', 'name'],
      properties: { password: { type: 'string', minLength: 12 } },
    });
    expect(op.responses['201']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/TestUser',
    });
    expect(doc.components.schemas).toHaveProperty('TestUser.description', 'A user.');
    // Error responses are problems, and validation adds the 422 by itself.
    expect(op.responses['409']?.content?.['application/problem+json']?.schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
    expect(op.responses['422']?.description).toMatch(/validation/);
    expect(doc.components.schemas).toHaveProperty('Problem.required');
  });

  it('turns path templates and query, params and header schemas into parameters', () => {
    const doc = createOpenApiDocument({
      info,
      routes: [
        {
          method: 'get',
          path: '/users/:id/posts/:postId',
          dependencies: {
            params: requestParams(z.object({ id: z.uuid() })),
            query: requestQuery(
              z.object({
                limit: z.number().int().max(100).default(20).describe('Page size.'),
                q: z.string().optional(),
              }),
            ),
            headers: requestHeaders(z.object({ 'x-tenant': z.string() })),
          },
        },
      ],
    });
    const op = operation(doc, '/users/{id}/posts/{postId}', 'get');
    const byName = Object.fromEntries((op.parameters ?? []).map((p) => [`${p.in}:${p.name}`, p]));
    expect(byName['path:id']).toMatchObject({ required: true, schema: { format: 'uuid' } });
    // A template parameter without a schema is still documented, as a string.
    expect(byName['path:postId']).toMatchObject({ required: true, schema: { type: 'string' } });
    expect(byName['query:limit']).toMatchObject({
      required: false,
      description: 'Page size.',
      schema: { type: 'integer', maximum: 100, default: 20 },
    });
    expect(byName['query:q']?.required).toBe(false);
    expect(byName['header:x-tenant']?.required).toBe(true);
    expect(op.responses['200']).toEqual({ description: 'OK' });
  });

  it('finds schemas in the dependencies a dependency injects', () => {
    const body = requestBody(Register);
    const service = defineDependency({
      name: 'registration',
      inject: { body },
      resolve: (_ctx, { body: value }) => value.email,
    });
    const doc = createOpenApiDocument({
      info,
      routes: [
        {
          method: 'POST',
          path: '/register',
          dependencies: { service },
          bodyMediaTypes: ['application/json', 'application/x-www-form-urlencoded'],
        },
      ],
    });
    const op = operation(doc, '/register', 'post');
    expect(Object.keys(op.requestBody?.content ?? {})).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
  });

  it('describes transforms by their input for requests', () => {
    const Login = z
      .object({ username: z.string(), password: z.string() })
      .transform((v) => ({ user: v.username.toLowerCase(), password: v.password }));
    const doc = createOpenApiDocument({
      info,
      routes: [{ method: 'POST', path: '/login', dependencies: { body: requestBody(Login) } }],
    });
    expect(
      operation(doc, '/login', 'post').requestBody?.content['application/json']?.schema,
    ).toMatchObject({ properties: { username: { type: 'string' } } });
  });

  it('keeps a named schema once and names an input shape that differs', () => {
    const Settings = z.object({ theme: z.string().default('dark') }).meta({ id: 'TestSettings' });
    const doc = createOpenApiDocument({
      info,
      routes: [
        {
          method: 'GET',
          path: '/settings',
          responses: { 200: { description: 'Settings', schema: Settings } },
        },
        { method: 'PUT', path: '/settings', dependencies: { body: requestBody(Settings) } },
        { method: 'PATCH', path: '/settings', dependencies: { body: requestBody(Settings) } },
      ],
    });
    const schemas = doc.components.schemas as Record<string, { required?: string[] }>;
    expect(schemas.TestSettings?.required).toEqual(['theme']);
    expect(schemas.TestSettingsInput?.required).toBeUndefined();
    expect(
      operation(doc, '/settings', 'put').requestBody?.content['application/json']?.schema,
    ).toEqual({ $ref: '#/components/schemas/TestSettingsInput' });
  });

  it('carries security schemes and per-operation requirements', () => {
    const doc = createOpenApiDocument({
      info,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      routes: [{ method: 'GET', path: '/me', security: [{ bearer: [] }] }],
    });
    expect(doc.components).toHaveProperty('securitySchemes.bearer.scheme', 'bearer');
    expect(operation(doc, '/me', 'get').security).toEqual([{ bearer: [] }]);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('writes what linters ask for: operationIds, security, servers, licence', () => {
    const doc = createOpenApiDocument({
      info: { ...info, license: { name: 'MIT', identifier: 'MIT' } },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      routes: [
        { method: 'GET', path: '/users/:id/posts' },
        { method: 'delete', path: '/.well-known/some_thing.json', operationId: 'removeThing' },
        { method: 'GET', path: '/me', security: [{ bearer: [] }] },
      ],
    });
    const posts = operation(doc, '/users/{id}/posts', 'get') as Operation & { operationId: string };
    expect(posts.operationId).toBe('getUsersByIdPosts');
    // No requirement anywhere: the operation is public, and says so.
    expect(posts.security).toEqual([]);
    expect(operation(doc, '/.well-known/some_thing.json', 'delete')).toMatchObject({
      operationId: 'removeThing',
      security: [],
    });
    expect(operation(doc, '/me', 'get')).toMatchObject({
      operationId: 'getMe',
      security: [{ bearer: [] }],
    });
    expect(doc.servers).toEqual([{ url: '/' }]);
    expect(doc.info.license).toEqual({ name: 'MIT', identifier: 'MIT' });
  });

  it('leaves security to the document-wide requirement when there is one', () => {
    const doc = createOpenApiDocument({
      info,
      servers: [{ url: 'https://api.example.com', description: 'Production' }],
      security: [{ bearer: [] }],
      routes: [
        { method: 'GET', path: '/me' },
        { method: 'GET', path: '/healthz', security: [] },
      ],
    });
    expect(operation(doc, '/me', 'get').security).toBeUndefined();
    expect(operation(doc, '/healthz', 'get').security).toEqual([]);
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.servers).toEqual([{ url: 'https://api.example.com', description: 'Production' }]);
  });

  it('refuses routes it cannot describe, at start-up', () => {
    expect(() =>
      createOpenApiDocument({ info, routes: [{ method: 'CONNECT', path: '/x' }] }),
    ).toThrow(ConfigurationError);
    expect(() =>
      createOpenApiDocument({
        info,
        routes: [
          { method: 'GET', path: '/x' },
          { method: 'get', path: '/x' },
        ],
      }),
    ).toThrow(/listed twice/);
    expect(() =>
      createOpenApiDocument({
        info,
        routes: [
          { method: 'GET', path: '/a', operationId: 'same' },
          { method: 'GET', path: '/b', operationId: 'same' },
        ],
      }),
    ).toThrow(/operationId "same" of GET \/b is already taken/);
  });
});
