import type * as z from 'zod';
import type { Context } from '../context/context.js';
import { type Dependency, defineDependency } from '../dependency/dependency.js';
import { ValidationError, type ValidationIssue } from '../errors/http-error.js';
import { coerceStrings, planCoercion } from './coerce.js';

type Location = ValidationIssue['location'];

/**
 * RFC 6901 JSON pointer for a zod issue path.
 *
 * @example
 * ```ts
 * toJsonPointer(['items', 0, 'a/b']); // '/items/0/a~1b'
 * ```
 */
export function toJsonPointer(path: readonly PropertyKey[]): string {
  let pointer = '';
  for (const segment of path) {
    pointer += `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`;
  }
  return pointer;
}

/**
 * Maps a failed zod parse to our 422 error with one issue per failed rule, for input
 * validated outside the request dependencies (a schema picked at run time).
 *
 * @example
 * ```ts
 * app.post('/payments', {}, async (ctx) => {
 *   const body = (await ctx.request.body()) as { method?: string };
 *   const result = (body.method === 'card' ? CardPayment : BankTransfer).safeParse(body);
 *   if (!result.success) throw toValidationError(result.error, 'body'); // 422, a pointer per rule
 *   return { status: 201, body: await payments.create(result.data) };
 * });
 * ```
 */
export function toValidationError(error: z.ZodError, location: Location): ValidationError {
  return new ValidationError(
    error.issues.map((issue) => ({
      pointer: toJsonPointer(issue.path),
      location,
      detail: issue.message,
      code: issue.code,
    })),
  );
}

/** The schema metadata routes carry so an OpenAPI document can be generated from them. */
export interface SchemaDependency<T> extends Dependency<T> {
  /** Where the value comes from. */
  readonly location: Location;
  /** The schema it validates against. */
  readonly schema: z.ZodType;
}

function validated<S extends z.ZodType>(
  location: Location,
  schema: S,
  read: (ctx: Context) => unknown,
): SchemaDependency<z.output<S>> {
  const check = (input: unknown): z.output<S> => {
    const result = schema.safeParse(input);
    if (!result.success) throw toValidationError(result.error, location);
    return result.data;
  };
  const dependency = defineDependency({
    name: `request ${location}`,
    resolve: (ctx) => {
      const input = read(ctx);
      return input instanceof Promise ? input.then(check) : check(input);
    },
  });
  return Object.freeze({ ...dependency, location, schema });
}

/**
 * The request body (JSON or an HTML form), validated by `schema`: typed, or 422
 * with a pointer per failed rule. Bodies are read with the toolkit's limits.
 *
 * @example
 * ```ts
 * const CreateUser = z.object({ email: z.email(), password: z.string().min(12) });
 * app.post('/users', kit.route({ input: requestBody(CreateUser) }, (req, res) => ...));
 * ```
 */
export function requestBody<S extends z.ZodType>(schema: S): SchemaDependency<z.output<S>> {
  return validated('body', schema, (ctx) => ctx.request.body());
}

/**
 * The query string validated by `schema`, with strings coerced to what the schema
 * expects (`?limit=10` gives the number 10; repeated keys fill arrays).
 *
 * @example
 * ```ts
 * const Page = z.object({ limit: z.number().int().max(100).default(20), tag: z.array(z.string()).default([]) });
 * app.get('/posts', { page: requestQuery(Page) }, async (_ctx, { page }) => ({
 *   body: await posts.list(page.limit, page.tag), // ?limit=10&tag=a&tag=b: 10, ['a', 'b']
 * }));
 * ```
 */
export function requestQuery<S extends z.ZodType>(schema: S): SchemaDependency<z.output<S>> {
  const plan = planCoercion(schema);
  return validated('query', schema, (ctx) => {
    const q = ctx.request.query;
    return coerceStrings(
      plan,
      (k) => q.get(k) ?? undefined,
      (k) => q.getAll(k),
      q.keys(),
    );
  });
}

/**
 * The path parameters of the matched route, validated and coerced like {@link requestQuery}.
 *
 * @example
 * ```ts
 * app.get('/users/:id', { path: requestParams(z.object({ id: z.number().int() })) }, async (_ctx, { path }) => ({
 *   body: await users.find(path.id), // "/users/10": 10; "/users/ten": 422
 * }));
 * ```
 */
export function requestParams<S extends z.ZodType>(schema: S): SchemaDependency<z.output<S>> {
  const plan = planCoercion(schema);
  return validated('params', schema, (ctx) => {
    const p = ctx.request.params;
    return coerceStrings(
      plan,
      (k) => p[k],
      (k) => (p[k] === undefined ? [] : [p[k] as string]),
      Object.keys(p),
    );
  });
}

/**
 * Request headers named by `schema`'s keys (lower-case), validated and coerced.
 *
 * @example
 * ```ts
 * const Tenant = z.object({ 'x-tenant-id': z.uuid() });
 * app.get('/settings', { headers: requestHeaders(Tenant) }, (_ctx, { headers }) => ({
 *   body: settingsOf(headers['x-tenant-id']), // missing or not a UUID: 422
 * }));
 * ```
 */
export function requestHeaders<S extends z.ZodType>(schema: S): SchemaDependency<z.output<S>> {
  const plan = planCoercion(schema);
  const names = [...plan.keys()];
  return validated('headers', schema, (ctx) => {
    const r = ctx.request;
    return coerceStrings(
      plan,
      (k) => r.header(k),
      (k) => [...r.headerValues(k)],
      names,
    );
  });
}
