import { createHash, randomUUID } from 'node:crypto';
import {
  type AnyDependency,
  type Clock,
  ConfigurationError,
  type Context,
  createContextKey,
  type Dependency,
  defineDependency,
  type Reply,
  type RequestOutcome,
  systemClock,
} from '@org/core';
import { booleanOption, functionOption, integerInRange, positiveInteger } from '@org/core/adapter';
import { ipKey } from '../client-ip/ip-address.js';
import { parseIdempotencyKey } from './idempotency-key.js';
import {
  type DocumentationLink,
  documentationLink,
  invalidKey,
  keyInUse,
  keyReused,
  missingKey,
  responseNotStored,
  storeUnavailable,
} from './problems.js';
import { type IdempotencyRecord, type IdempotencyStore, isIdempotencyStore } from './store.js';
import { captureReply, replayOf } from './stored-response.js';

/**
 * Options of {@link idempotency}. Only `store` is required; the defaults follow the draft.
 *
 * @example
 * ```ts
 * idempotency({ store, after: [auth.currentUser], retentionMs: 3_600_000, required: true,
 *   documentationUrl: 'https://api.example.com/docs/idempotency' });
 * ```
 */
export interface IdempotencyOptions {
  /** Where records live: a `MemoryIdempotencyStore` (one instance) or a `RedisIdempotencyStore` (many). */
  store: IdempotencyStore;
  /**
   * Milliseconds a completed response is kept and replayed; after it the key is free and
   * the same request runs again. Publish it (draft section 2.3 asks servers to).
   * @default 86400000 (24 hours)
   */
  retentionMs?: number;
  /**
   * Milliseconds the first request holds its key while it runs; retries meanwhile get
   * 409. A claim left by a crashed instance lapses after it. Keep it above your slowest
   * handler, or a retry may run while the first request still does.
   * @default 60000
   */
  claimTimeoutMs?: number;
  /**
   * Longest response body kept for replay, in bytes. A longer response is sent but not
   * kept: retries get 409 `ERR_IDEMPOTENCY_RESPONSE_NOT_STORED`, never a second run.
   * @default 65536
   */
  maxBodyBytes?: number;
  /** Longest key accepted, in characters (after unescaping); a longer one gets 400. @default 255 */
  maxKeyLength?: number;
  /** Whether a request without `Idempotency-Key` gets 400 (section 2.7) instead of running unprotected. @default false */
  required?: boolean;
  /**
   * Whose keys these are: keys of different scopes never meet. The default is the
   * authenticated principal (`ctx.principalId`), else the client IP (IPv6 by /64), so
   * one client can never replay another's response (draft, Security Considerations).
   * @default (ctx) => principal id, else client IP
   */
  scope?: (ctx: Context) => string;
  /**
   * Dependencies to resolve first. A route's dependencies start together, so the key
   * must wait for the one that authenticates (`currentUser`), or it is scoped to the
   * client IP rather than the principal.
   * @default []
   */
  after?: readonly AnyDependency[];
  /** A page documenting the policy; problems then carry `Link: <url>; rel="describedby"` (section 2.7). */
  documentationUrl?: string;
  /** Source of time for retention and claims. @default systemClock */
  clock?: Clock;
}

/**
 * What the {@link idempotency} dependency resolves to.
 *
 * @example
 * ```ts
 * handler: async (_ctx, { retries }) => {
 *   // Forward the key so the payment provider deduplicates too.
 *   return { status: 201, body: await provider.charge(input, { idempotencyKey: retries.key }) };
 * };
 * ```
 */
export interface IdempotencyResult {
  /** The request's key (unescaped), or undefined when it sent none. */
  readonly key: string | undefined;
  /** Whether the stored response of an earlier request is sent instead of running the handler. */
  readonly replayed: boolean;
}

/** A key this request claimed, until its response is stored or the key released. */
interface Claim {
  readonly key: string;
  readonly record: IdempotencyRecord;
  settled: boolean;
  intercepted: boolean;
}

const claimKey = createContextKey<Claim>('idempotencyClaim');
const NO_KEY: IdempotencyResult = Object.freeze({ key: undefined, replayed: false });
const NO_CONTENT: Reply = Object.freeze({ status: 204 });
const FACTORY = 'idempotency';

/**
 * Safe retries for POST and PATCH routes with the `Idempotency-Key` request header
 * (draft-ietf-httpapi-idempotency-key-header). The first request with a key claims it
 * in one store round trip and runs; its response (status, the reply's headers and body)
 * is stored with a fingerprint of the request (method, path, SHA-256 of the body). A
 * retry with the same key and fingerprint gets that response again, byte for byte, with
 * `Idempotent-Replayed: true`, and the handler does not run. Section 2.7's errors: 409
 * while the first request runs, 422 for the key with another request, 400 for a
 * malformed key. Answers of 400 or more, and thrown errors, are not stored: the key is
 * released and a retry runs again (a refused request changed nothing, and a stored 401
 * or 429 would outlive its cause). Works on framework-neutral routes on every adapter.
 *
 * @throws A `ConfigurationError` at once for an invalid option.
 * @example
 * ```ts
 * const store = new MemoryIdempotencyStore();
 * defineRoute({ method: 'POST', path: '/payments',
 *   dependencies: { user: auth.currentUser, idempotency: idempotency({ store, after: [auth.currentUser] }),
 *     input: requestBody(NewPayment) },
 *   handler: async (_ctx, { user, input }) => ({ status: 201, body: await payments.create(user, input) }) });
 * ```
 */
export function idempotency(options: IdempotencyOptions): Dependency<IdempotencyResult> {
  if (!isIdempotencyStore(options?.store)) {
    throw new ConfigurationError(
      `${FACTORY}: \`store\` must be an IdempotencyStore (new MemoryIdempotencyStore() or new RedisIdempotencyStore({ client })).`,
    );
  }
  const { store } = options;
  const retentionMs = positiveInteger(FACTORY, 'retentionMs', options.retentionMs, 86_400_000);
  const claimTimeoutMs = positiveInteger(FACTORY, 'claimTimeoutMs', options.claimTimeoutMs, 60_000);
  const maxBodyBytes = positiveInteger(FACTORY, 'maxBodyBytes', options.maxBodyBytes, 65_536);
  const maxKeyLength = integerInRange(FACTORY, 'maxKeyLength', options.maxKeyLength, {
    min: 1,
    max: 4096,
    fallback: 255,
  });
  const required = booleanOption(FACTORY, 'required', options.required, false);
  const scopeOf = functionOption(FACTORY, 'scope', options.scope, defaultScope);
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') {
    throw new ConfigurationError(`${FACTORY}: \`clock\` must have a now() method.`);
  }
  const after = options.after ?? [];
  if (!Array.isArray(after)) {
    throw new ConfigurationError(`${FACTORY}: \`after\` must be a list of dependencies.`);
  }
  const url = options.documentationUrl;
  if (url !== undefined && !URL.canParse(url)) {
    throw new ConfigurationError(`${FACTORY}: \`documentationUrl\` must be an absolute URL.`);
  }
  const link = documentationLink(url);

  /** Runs the handler for a claimed key: stores a response under 400, else releases the key. */
  const intercept =
    (ctx: Context, claim: Claim) =>
    async (proceed: () => Promise<Reply | undefined>): Promise<Reply> => {
      claim.intercepted = true;
      let reply: Reply;
      try {
        reply = (await proceed()) ?? NO_CONTENT;
      } catch (error) {
        await release(ctx, claim);
        throw error;
      }
      if ((reply.status ?? 200) >= 400) {
        await release(ctx, claim);
        return reply;
      }
      const captured = captureReply(reply, maxBodyBytes);
      claim.settled = true;
      try {
        const record = { ...claim.record, response: captured.stored };
        await store.complete(claim.key, record, retentionMs, clock.now());
      } catch (error) {
        // The work is done: the client still gets its answer; the claim lapses by itself.
        ctx.toolkit.reportError(error, ctx, 'idempotency store');
      }
      return captured.reply;
    };

  const release = async (ctx: Context, claim: Claim): Promise<void> => {
    if (claim.settled) return;
    claim.settled = true;
    try {
      await store.release(claim.key, claim.record, clock.now());
    } catch (error) {
      ctx.toolkit.reportError(error, ctx, 'idempotency store');
    }
  };

  return defineDependency({
    name: 'idempotency',
    inject: Object.fromEntries(after.map((dependency, index) => [`after${index}`, dependency])),
    async resolve(ctx): Promise<IdempotencyResult> {
      const values = ctx.request.headerValues('idempotency-key');
      if (values.length === 0) {
        if (required) throw missingKey(link);
        return NO_KEY;
      }
      const parsed = parseIdempotencyKey(values, maxKeyLength);
      if ('problem' in parsed) throw invalidKey(parsed.problem, link);
      const record: IdempotencyRecord = {
        fingerprint: await fingerprintOf(ctx),
        token: randomUUID(),
      };
      const key = sha256(`${scopeOf(ctx)}\n${parsed.key}`);
      let found: IdempotencyRecord | undefined;
      try {
        found = await store.claim(key, record, claimTimeoutMs, clock.now());
      } catch (error) {
        throw storeUnavailable(error);
      }
      if (found === undefined) {
        const claim: Claim = { key, record, settled: false, intercepted: false };
        ctx.set(claimKey, claim);
        ctx.interceptHandler(intercept(ctx, claim));
        return { key: parsed.key, replayed: false };
      }
      return replay(ctx, found, record.fingerprint, link, parsed.key);
    },
    // A claim whose handler never ran (a sibling dependency refused the request, or the
    // route's handler writes the framework's response itself) is released here.
    teardown: (_result, outcome, ctx) => {
      const claim = ctx.get(claimKey);
      if (claim === undefined || claim.settled) return;
      if (!claim.intercepted && !outcome.failed) reportNotIntercepted(ctx, outcome);
      return release(ctx, claim);
    },
  });
}

/** The answer for a key already taken: the stored response, or the section 2.7 error. */
function replay(
  ctx: Context,
  found: IdempotencyRecord,
  fingerprint: string,
  link: DocumentationLink,
  key: string,
): IdempotencyResult {
  // Section 2.2: a key is never reused with another request, running or done.
  if (found.fingerprint !== fingerprint) throw keyReused(link);
  const { response } = found;
  if (response === undefined) throw keyInUse(link);
  if (response.tooLarge === true) throw responseNotStored(link);
  ctx.interceptHandler(() => Promise.resolve(replayOf(response)));
  return { key, replayed: true };
}

function reportNotIntercepted(ctx: Context, outcome: RequestOutcome): void {
  ctx.toolkit.reportError(
    new ConfigurationError(
      `idempotency: ${ctx.request.method} ${ctx.request.route ?? ctx.request.path} answered ${outcome.status} without returning a Reply, so its response could not be stored. Use it on framework-neutral routes (defineRoute and mount).`,
    ),
    ctx,
    'idempotency',
  );
}

/** The principal when authenticated, else the client IP (an IPv6 client by its /64). */
function defaultScope(ctx: Context): string {
  const principal = ctx.principalId;
  return principal === undefined ? `ip:${ipKey(ctx.clientIp)}` : `principal:${principal}`;
}

/** Draft section 2.4: method, path and a checksum of the whole payload. */
async function fingerprintOf(ctx: Context): Promise<string> {
  const body = await ctx.request.body();
  const payload = body === undefined ? '' : JSON.stringify(body);
  return sha256(`${ctx.request.method}\n${ctx.request.path}\n${payload}`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
