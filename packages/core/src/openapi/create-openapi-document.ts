import type * as z from 'zod';
import type { AnyDependency, DependencyMap } from '../dependency/dependency.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem.js';
import type { SchemaDependency } from '../validation/validate.js';
import { type JsonSchema, SchemaComponents } from './schema-components.js';

/** One response of an operation. */
export interface OpenApiResponse {
  /** What the response means. */
  description: string;
  /** The body's schema (the output side of a zod schema). @default no body */
  schema?: z.ZodType;
  /**
   * The body's media type; given without a schema, the body is documented as that type only.
   * @default 'application/json' with a schema; without one, 'application/problem+json' for 4xx and 5xx, else no body
   */
  mediaType?: string;
  /** Response headers worth documenting (`Retry-After`, `WWW-Authenticate`), name to description. @default {} */
  headers?: Readonly<Record<string, string>>;
}

/** One route of the API, described from the same dependencies it runs with. */
export interface OpenApiRoute {
  /** HTTP method, any case. */
  method: string;
  /** The route template in `:param` form, as the adapters take it (`/users/:id`). */
  path: string;
  /** One line for the operation list. */
  summary?: string;
  /** Longer text (CommonMark). */
  description?: string;
  /**
   * A unique id for client generators.
   * @default derived from the method and path: `GET /users/:id` is `getUsersById`
   */
  operationId?: string;
  /** Groups in the reference. @default [] */
  tags?: readonly string[];
  /**
   * The route's dependencies. Every `requestBody`, `requestQuery`, `requestParams`
   * and `requestHeaders` among them, or among the dependencies they inject, documents
   * the request; their presence also adds the 422 validation problem.
   * @default {}
   */
  dependencies?: DependencyMap;
  /**
   * Responses by status code. A string is the description only; 4xx and 5xx
   * responses without a schema or media type are documented as RFC 9457 problems.
   * @default { 200: 'OK' }
   */
  responses?: Readonly<Record<number, OpenApiResponse | string>>;
  /**
   * Security requirements, such as `[{ bearer: [] }]`; `[]` marks a public operation.
   * @default the document's `security`, or `[]` (public) when the document sets none
   */
  security?: readonly Readonly<Record<string, readonly string[]>>[];
  /** Media types the body is accepted in (the adapters parse JSON and HTML forms alike). @default ['application/json'] */
  bodyMediaTypes?: readonly string[];
  /** Marks the operation as deprecated. @default false */
  deprecated?: boolean;
  /** Left out of the document (a docs page's own assets). @default false */
  hidden?: boolean;
}

/** Options of {@link createOpenApiDocument}. */
export interface OpenApiDocumentOptions {
  /** The `info` object: `title` and `version` are required by OpenAPI. */
  info: {
    /** The API's name, the heading of the rendered reference. */
    title: string;
    /** The version of the API described (not of OpenAPI), such as `1.0.0`. */
    version: string;
    /** What the API does, in CommonMark. @default none */
    description?: string;
    /** The licence the API is offered under: a `name` and an SPDX `identifier` or a `url`. @default none */
    license?: {
      /** The licence's name, such as `MIT`. */
      name: string;
      /** Its SPDX expression, such as `MIT`; not together with `url`. @default none */
      identifier?: string;
      /** Where the licence's text is; not together with `identifier`. @default none */
      url?: string;
    };
    /** Any other Info Object field (`summary`, `contact`, `license`, `x-` extensions), copied as given. */
    [field: string]: unknown;
  };
  /**
   * The routes to document, in the order they should appear: those mounted with an
   * adapter are `toolkit.routes`. Routes marked `hidden` are left out.
   */
  routes: readonly OpenApiRoute[];
  /**
   * Where the API is served.
   * @default [{ url: '/' }]: relative to where the document was fetched, as OpenAPI reads an absent list
   */
  servers?: readonly {
    /** The server's base URL (`https://api.example.com/v1`); a relative URL is resolved against the document's. */
    url: string;
    /** What the server is, such as `Production`. @default none */
    description?: string;
  }[];
  /** `components.securitySchemes`, such as `{ bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } }`. @default {} */
  securitySchemes?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Security requirements of every operation that does not set its own. @default none */
  security?: readonly Readonly<Record<string, readonly string[]>>[];
  /** Tag descriptions. @default none */
  tags?: readonly {
    /** The tag, as routes name it in {@link OpenApiRoute.tags}. */
    name: string;
    /** What the tag's operations have in common, in CommonMark. @default none */
    description?: string;
  }[];
}

/** An OpenAPI 3.1 document, ready for `JSON.stringify`. */
export interface OpenApiDocument {
  /** The version of the OpenAPI Specification the document follows. */
  readonly openapi: '3.1.1';
  /** A copy of the `info` option. */
  readonly info: OpenApiDocumentOptions['info'];
  /** Path Item Objects by OpenAPI path (`/users/{id}`), each with its operations by lower-case method. */
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /**
   * Reusable objects: `schemas` (every schema named with `.meta({ id })`, and the RFC 9457
   * `Problem`) and, when the options give them, `securitySchemes`.
   */
  readonly components: Readonly<Record<string, unknown>>;
  /** `servers` (always), `tags` and `security` (present when the options give them). */
  readonly [field: string]: unknown;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

/** RFC 9457 as `toProblem` writes it. */
const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'An RFC 9457 problem document.',
  properties: {
    type: { type: 'string', description: 'A URI reference naming the problem type.' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Stable error code, such as ERR_NOT_FOUND.' },
    request_id: { type: 'string', description: 'The X-Request-Id of the request.' },
    errors: {
      type: 'array',
      description: 'Every failed rule of a 422.',
      items: {
        type: 'object',
        properties: {
          pointer: { type: 'string', description: 'RFC 6901 JSON pointer.' },
          location: { enum: ['body', 'query', 'params', 'headers'] },
          detail: { type: 'string' },
          code: { type: 'string' },
        },
        required: ['pointer', 'location', 'detail', 'code'],
      },
    },
  },
  required: ['type', 'title', 'status', 'code'],
};

function isSchemaDependency(dependency: AnyDependency): dependency is SchemaDependency<unknown> {
  const candidate = dependency as Partial<SchemaDependency<unknown>>;
  return typeof candidate.location === 'string' && typeof candidate.schema === 'object';
}

/** Every schema dependency reachable from `dependencies`, each once. */
function schemaDependencies(dependencies: DependencyMap): SchemaDependency<unknown>[] {
  const found: SchemaDependency<unknown>[] = [];
  const seen = new Set<AnyDependency>();
  const visit = (dependency: AnyDependency): void => {
    if (seen.has(dependency)) return;
    seen.add(dependency);
    if (isSchemaDependency(dependency)) found.push(dependency);
    for (const inner of Object.values(dependency.inject ?? {})) visit(inner);
  };
  for (const dependency of Object.values(dependencies)) visit(dependency);
  return found;
}

/** `/users/:id` to `/users/{id}`, and the parameter names in order. */
function toOpenApiPath(template: string): { path: string; names: string[] } {
  const names: string[] = [];
  const path = template.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) => {
    names.push(name);
    return `{${name}}`;
  });
  return { path, names };
}

const IN: Readonly<Record<string, string>> = { query: 'query', params: 'path', headers: 'header' };

/** OpenAPI parameters from an object schema: one per property. */
function parametersOf(location: string, json: JsonSchema): Record<string, unknown>[] {
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: IN[location],
      required: location === 'params' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

function responsesOf(
  route: OpenApiRoute,
  validated: boolean,
  components: SchemaComponents,
): Record<string, unknown> {
  const given = route.responses ?? { 200: 'OK' };
  const out: Record<string, unknown> = {};
  const entries = Object.entries(given);
  if (validated && !(422 in given)) entries.push(['422', 'The request failed validation.']);
  for (const [status, value] of entries) {
    const response: OpenApiResponse = typeof value === 'string' ? { description: value } : value;
    const isError = Number(status) >= 400;
    const entry: Record<string, unknown> = { description: response.description };
    if (response.schema !== undefined) {
      const mediaType = response.mediaType ?? 'application/json';
      entry.content = { [mediaType]: { schema: components.convert(response.schema, 'output') } };
    } else if (response.mediaType !== undefined) {
      entry.content = { [response.mediaType]: {} };
    } else if (isError) {
      entry.content = { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_REF } };
    }
    if (response.headers !== undefined) {
      entry.headers = Object.fromEntries(
        Object.entries(response.headers).map(([name, description]) => [
          name,
          { description, schema: { type: 'string' } },
        ]),
      );
    }
    out[status] = entry;
  }
  return out;
}

const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/** `GET /users/:id/posts` to `getUsersByIdPosts`: URL-safe, and unique while method and path are. */
function deriveOperationId(method: string, template: string): string {
  const words = template
    .split('/')
    .flatMap((segment) =>
      segment.startsWith(':')
        ? ['by', ...segment.slice(1).split(/[^A-Za-z0-9]+/)]
        : segment.split(/[^A-Za-z0-9]+/),
    )
    .filter((word) => word !== '');
  return method + words.map(capitalize).join('');
}

function operationOf(
  route: OpenApiRoute,
  names: readonly string[],
  components: SchemaComponents,
): Record<string, unknown> {
  const operation: Record<string, unknown> = {};
  operation.operationId =
    route.operationId ?? deriveOperationId(route.method.toLowerCase(), route.path);
  if (route.summary !== undefined) operation.summary = route.summary;
  if (route.description !== undefined) operation.description = route.description;
  if (route.tags !== undefined && route.tags.length > 0) operation.tags = [...route.tags];
  if (route.deprecated === true) operation.deprecated = true;
  const parameters: Record<string, unknown>[] = [];
  const schemas = schemaDependencies(route.dependencies ?? {});
  for (const dependency of schemas) {
    if (dependency.location === 'body') {
      const schema = components.convert(dependency.schema, 'input');
      const mediaTypes = route.bodyMediaTypes ?? ['application/json'];
      operation.requestBody = {
        required: true,
        content: Object.fromEntries(mediaTypes.map((type) => [type, { schema }])),
      };
    } else {
      // Parameters are listed inline: a $ref'd object would hide its properties.
      const json = components.dereference(components.convert(dependency.schema, 'input'));
      parameters.push(...parametersOf(dependency.location, json));
    }
  }
  for (const name of names) {
    if (!parameters.some((p) => p.in === 'path' && p.name === name)) {
      parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    }
  }
  if (parameters.length > 0) operation.parameters = parameters;
  operation.responses = responsesOf(route, schemas.length > 0, components);
  if (route.security !== undefined) operation.security = route.security.map((r) => ({ ...r }));
  return operation;
}

/**
 * Builds an OpenAPI 3.1 document from routes and the very zod schemas they validate
 * with: each `requestBody`, `requestQuery`, `requestParams` and `requestHeaders`
 * dependency carries its location and schema, so the document cannot drift from
 * what the routes accept. Schemas named with `.meta({ id })` become reusable
 * components; error responses are RFC 9457 problems. Build it once at start-up and
 * serve the result.
 *
 * @example
 * ```ts
 * const Register = z.object({ email: z.email(), password: z.string().min(12) });
 * const register = requestBody(Register);
 * const document = createOpenApiDocument({
 *   info: { title: 'Users API', version: '1.0.0' },
 *   routes: [{ method: 'POST', path: '/users', summary: 'Register', dependencies: { register },
 *     responses: { 201: { description: 'Created', schema: User }, 409: 'Email taken' } }],
 * });
 * app.get('/openapi.json', kit.endpoint(() => ({ body: document })));
 *
 * // Or from what was mounted, built on the first request:
 * let mounted: OpenApiDocument | undefined;
 * kit.mount(app, [...routes, defineRoute({ method: 'GET', path: '/openapi.json', hidden: true,
 *   handler: () => ({ body: (mounted ??= createOpenApiDocument({ info, routes: toolkit.routes })) }) })]);
 * ```
 * @throws {@link ConfigurationError} for an unknown method, a repeated route, or a schema without a JSON form.
 */
export function createOpenApiDocument(options: OpenApiDocumentOptions): OpenApiDocument {
  const components = new SchemaComponents();
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  for (const route of options.routes) {
    if (route.hidden === true) continue;
    const method = route.method.toLowerCase();
    if (!METHODS.has(method)) {
      throw new ConfigurationError(
        `createOpenApiDocument: ${route.method} ${route.path} has a method OpenAPI cannot describe.`,
      );
    }
    const { path, names } = toOpenApiPath(route.path);
    const item = (paths[path] ??= {});
    if (item[method] !== undefined) {
      throw new ConfigurationError(
        `createOpenApiDocument: ${route.method.toUpperCase()} ${route.path} is listed twice.`,
      );
    }
    const operation = operationOf(route, names, components);
    const operationId = operation.operationId as string;
    if (operationIds.has(operationId)) {
      throw new ConfigurationError(
        `createOpenApiDocument: operationId "${operationId}" of ${route.method.toUpperCase()} ${route.path} is already taken; give the route an operationId of its own.`,
      );
    }
    operationIds.add(operationId);
    // Without a document-wide requirement, a route that names none is public: say so,
    // so readers and linters need not guess (an absent `security` means the same).
    if (operation.security === undefined && options.security === undefined) operation.security = [];
    item[method] = operation;
  }
  const document: Record<string, unknown> = { openapi: '3.1.1', info: { ...options.info } };
  // OpenAPI reads an absent or empty `servers` as `[{ url: '/' }]`; written out, linters agree.
  const servers = options.servers?.length ? options.servers : [{ url: '/' }];
  document.servers = servers.map((s) => ({ ...s }));
  if (options.tags !== undefined) document.tags = options.tags.map((t) => ({ ...t }));
  document.paths = paths;
  document.components = {
    schemas: { ...components.toObject(), Problem: PROBLEM_SCHEMA },
    ...(options.securitySchemes === undefined
      ? {}
      : { securitySchemes: { ...options.securitySchemes } }),
  };
  if (options.security !== undefined) document.security = options.security.map((r) => ({ ...r }));
  return document as unknown as OpenApiDocument;
}
