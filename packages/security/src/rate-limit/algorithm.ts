import type { HitResult, PolicyLimits } from './store.js';

/**
 * One rate-limiting algorithm, written twice: in TypeScript for the memory store and
 * in Lua for the Redis store. The tests run the same scenarios on both, so the two
 * cannot drift. Both round the same way: `remaining` down, milliseconds up.
 */
export interface Algorithm<S extends AlgorithmState> {
  /** Redis script: `KEYS[1]` the key; `ARGV` limit, windowMs, cost, now. Returns `{remaining, resetMs}` when the hit is allowed, `{remaining, resetMs, retryAfterMs}` when it is refused. */
  readonly lua: string;
  /** A state that has seen no hits. */
  create(): S;
  /** Applies a hit, mutating `state` only when the hit is allowed and costs something. */
  apply(state: S, policy: PolicyLimits, cost: number, now: number): HitResult;
}

/** The part of every memory state the store itself uses. */
export interface AlgorithmState {
  /** When the memory store last moved the entry to the young end of its eviction order. */
  touchedAt: number;
}

/** Floating-point slack for comparisons of fractional counts and times. */
export const EPSILON = 1e-6;

/** Builds a result with the rounding both implementations share. */
export function result(
  allowed: boolean,
  remaining: number,
  resetMs: number,
  retryAfterMs: number,
): HitResult {
  return {
    allowed,
    remaining: Math.max(0, Math.floor(remaining + EPSILON)),
    resetMs: Math.max(0, Math.ceil(resetMs - EPSILON)),
    retryAfterMs: allowed ? 0 : Math.max(1, Math.ceil(retryAfterMs - EPSILON)),
  };
}

/** The Lua twin of {@link result}, prepended to every script; the reply's length says whether the hit was allowed. */
export const LUA_RESULT = `
local EPSILON = 1e-6
local function result(allowed, remaining, reset_ms, retry_ms)
  local r = math.max(0, math.floor(remaining + EPSILON))
  local t = math.max(0, math.ceil(reset_ms - EPSILON))
  if allowed == 1 then return {r, t} end
  return {r, t, math.max(1, math.ceil(retry_ms - EPSILON))}
end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local key = KEYS[1]
`;
