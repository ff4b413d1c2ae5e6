// The fastify side of the adapter: a context whose headers live on the reply, and the
// ways a reply or a problem is written. Private to the adapter.
import type { FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { ValidationError, type ValidationIssue } from '../../errors/http-error.js';
import { isSendableHeader } from '../../internal/header-field.js';
import {
  checkedHeader,
  NodeContext,
  NodeRequestView,
  responseOutcome,
  serializeBody,
  whenClosed,
} from '../../internal/node-request.js';
import type { AdapterContext, ResponseWriter } from '../../lifecycle/adapter-context.js';
import { type LifecycleRoute, runRoute } from '../../lifecycle/request-lifecycle.js';
import type { Reply } from '../../toolkit/plugin.js';
import type { Toolkit } from '../../toolkit/toolkit.js';
import { toJsonPointer } from '../../validation/validate.js';

/** Headers write through the reply, so fastify code and features see and replace the same values. */
export class FastifyContext extends NodeContext {
  /** Fastify's request, which route handlers receive. */
  readonly fastifyRequest: FastifyRequest;
  /** The reply every header goes through. */
  readonly reply: FastifyReply;
  constructor(request: FastifyRequest, reply: FastifyReply, toolkit: Toolkit) {
    super(new NodeRequestView(request.raw, toolkit, request.url), reply.raw, toolkit);
    this.fastifyRequest = request;
    this.reply = reply;
  }

  override sendReply(reply: Reply): void {
    sendReply(this.reply, reply);
  }

  override dropContentHeaders(): void {
    dropForProblem(this.reply);
  }

  // Fastify validates headers only when it writes them, after the route ran: check them
  // here, as the other adapters do, so a bad one fails where it is set.
  override setHeader(name: string, value: string): void {
    if (!this.headersSent) this.reply.header(checkedHeader(name, value), value);
  }

  override appendHeader(name: string, value: string): void {
    if (this.headersSent) return;
    // The lower-case name: fastify lower-cases each name it is given, a new string each time.
    const key = checkedHeader(name, value);
    const current = this.reply.getHeader(key);
    if (current === undefined) {
      this.reply.header(key, value);
      return;
    }
    const values = [...(Array.isArray(current) ? current : [String(current)]), value];
    // RFC 9110 section 5.3: field lines combine with commas, except Set-Cookie (RFC 6265 section 3).
    // The list replaces the old value: reply.header would push onto a stored set-cookie array.
    this.reply.removeHeader(key);
    this.reply.header(key, key === 'set-cookie' ? values : values.join(', '));
  }

  override removeHeader(name: string): void {
    if (this.headersSent) return;
    // A header the reply does not hold (`X-Powered-By`: fastify sets none) skips fastify's
    // `delete`, which V8 runs on its slow path; Node still hears of it (`Date` is Node's).
    if (this.reply.hasHeader(name)) this.reply.removeHeader(name);
    else this.response.removeHeader(name);
  }

  #upgraded = false;

  /** An upgrade handed to `@fastify/websocket`: the request ends, 101, when the connection does. */
  markUpgraded(): void {
    this.#upgraded = true;
  }

  // The upgrade's response (over its socket) closes with the connection, never finished.
  protected override watchEnd(): void {
    whenClosed(this.response, () => {
      void this.finish(
        this.#upgraded
          ? { status: 101, aborted: false, error: this.failure, bytes: 0 }
          : responseOutcome(this.response, this.failure, this.bodyBytes()),
      );
    });
  }

  // Fastify passes its headers to writeHead, so the raw response cannot report the length.
  protected override bodyBytes(): number {
    const length = Number(this.reply.getHeader('content-length'));
    return Number.isFinite(length) ? length : 0;
  }
}

/** The context the plugin's `onRequest` hook put on `request`; a {@link ConfigurationError} without the plugin. */
export function contextOf(request: FastifyRequest): FastifyContext {
  const ctx = request.toolkitContext as FastifyContext | null | undefined;
  if (!ctx) {
    throw new ConfigurationError(
      'No toolkit context on this request: register the adapter first, `await app.register(kit.plugin)`.',
    );
  }
  return ctx;
}

/** Sends a framework-neutral {@link Reply} through fastify (hooks and `onSend` still run). */
export function sendReply(reply: FastifyReply, out: Reply): FastifyReply {
  const payload = serializeBody(out.body);
  const json = payload !== out.body;
  reply.code(out.status ?? 200);
  const { headers } = out;
  if (headers !== undefined) {
    // Every one checked before any is kept: fastify leaves the check to Node's writeHead,
    // and the problem answering a bad header would then carry it and fail too.
    for (const name of Object.keys(headers)) checkedHeader(name, headers[name] as string);
    reply.headers(headers);
  }
  if (json && !reply.hasHeader('content-type')) reply.type('application/json; charset=utf-8');
  return reply.send(payload);
}

/**
 * Readies a reply for a problem: drops the failed body's content headers, and any header
 * Node would refuse that was set through fastify's own API (`reply.header`), which
 * fastify checks only in writeHead: the problem would fail on it the same way.
 */
function dropForProblem(reply: FastifyReply): void {
  reply.removeHeader('content-length').removeHeader('content-encoding');
  const headers = reply.getHeaders();
  for (const name of Object.keys(headers)) {
    if (!isSendableHeader(name, headers[name])) reply.removeHeader(name);
  }
}

/** A route handler running `route` through the lifecycle, which sends the reply itself. */
export function lifecycleHandler(
  route: LifecycleRoute<AdapterContext, unknown, void | Promise<void>>,
): (request: FastifyRequest) => Promise<FastifyReply> | undefined {
  return (request) => {
    const ctx = contextOf(request);
    const sent = runRoute(ctx, route, undefined);
    // Resolving to the reply (a thenable) makes fastify wait for it, never send again.
    return sent instanceof Promise ? sent.then(() => ctx.reply) : undefined;
  };
}

/** A {@link ResponseWriter} over a reply, for errors fastify answers before any context exists. */
export function replyWriter(reply: FastifyReply): ResponseWriter {
  return {
    headersSent: reply.raw.headersSent,
    sendReply: (out) => void sendReply(reply, out),
    dropContentHeaders: () => dropForProblem(reply),
    abort: () => reply.raw.destroy(),
  };
}

const LOCATIONS: Readonly<Record<string, ValidationIssue['location']>> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

function toIssue(
  issue: FastifySchemaValidationError,
  location: ValidationIssue['location'],
): ValidationIssue {
  const missing = issue.params.missingProperty;
  return {
    // Ajv's instancePath is already an RFC 6901 pointer; `required` points at the parent.
    pointer:
      issue.keyword === 'required' && typeof missing === 'string'
        ? issue.instancePath + toJsonPointer([missing])
        : issue.instancePath,
    location,
    detail: issue.message ?? 'Invalid value.',
    code: issue.keyword,
  };
}

/**
 * A failure of a route's own fastify schema as the toolkit's 422, one issue per failed
 * rule like the zod validators; undefined for any other error.
 */
export function fromValidationError(error: unknown): ValidationError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { validation, validationContext } = error as {
    validation?: unknown;
    validationContext?: unknown;
  };
  if (!Array.isArray(validation)) return undefined;
  const location = LOCATIONS[String(validationContext)] ?? 'body';
  return new ValidationError(
    (validation as FastifySchemaValidationError[]).map((issue) => toIssue(issue, location)),
    { cause: error },
  );
}

// Properties of fastify's request that a dependency must not overwrite.
const RESERVED = new Set([
  ...'id params raw query log body server headers url originalUrl'.split(' '),
  ...'method routeOptions is404 socket ip ips host hostname port protocol'.split(' '),
  ...'signal validationError toolkitContext'.split(' '),
]);

/** The path of a request URL, without its query. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Throws, at `kit.route()` time, for a dependency name a fastify request already uses. */
export function checkDependencyNames(names: readonly string[]): void {
  const reserved = names.find((name) => RESERVED.has(name));
  if (reserved !== undefined) {
    throw new ConfigurationError(
      `kit.route(): the dependency name "${reserved}" is a fastify request property; rename it.`,
    );
  }
}
