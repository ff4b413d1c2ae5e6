import { type Algorithm, type AlgorithmState, EPSILON, LUA_RESULT, result } from './algorithm.js';

/** Memory state of {@link fixedWindow}. */
export interface FixedWindowState extends AlgorithmState {
  /** When the current window opened (the first hit after the previous one closed). */
  start: number;
  /** Units used in the current window. */
  count: number;
}

/**
 * Fixed window, opened by the first hit of each key rather than aligned to the
 * clock, so clients do not all reset at the same instant. Cheap and exact, but a
 * client can spend up to twice the quota across the end of one window and the
 * start of the next; use `sliding-window` or `gcra` where that matters.
 */
export const fixedWindow: Algorithm<FixedWindowState> = {
  create: () => ({ start: Number.NEGATIVE_INFINITY, count: 0, touchedAt: 0 }),
  apply(state, policy, cost, now) {
    let start = state.start;
    let count = state.count;
    if (now >= start + policy.windowMs) {
      start = now;
      count = 0;
    }
    const resetMs = start + policy.windowMs - now;
    if (count + cost > policy.limit + EPSILON) {
      return result(false, policy.limit - count, resetMs, resetMs);
    }
    if (cost > 0) {
      state.start = start;
      state.count = count + cost;
    }
    return result(true, policy.limit - count - cost, resetMs, 0);
  },
  // State is one string "<start>:<count>": GET and SET, two commands per hit. The
  // window's expiry does not move, so only the hit that opens it sets a TTL; the
  // others keep it (KEEPTTL, Redis >= 6.0), which spares Redis an expiry update
  // and the rewrite of PX into PXAT for replication (about 0.9 µs per hit).
  lua: `${LUA_RESULT}
local start, count
local saved = redis.call('GET', key)
if saved then
  local s, c = string.match(saved, '^([^:]+):([^:]+)$')
  start = tonumber(s)
  count = tonumber(c)
end
local opens = start == nil or count == nil or now >= start + window
if opens then
  start = now
  count = 0
end
local reset_ms = start + window - now
if count + cost > limit + EPSILON then
  return result(0, limit - count, reset_ms, reset_ms)
end
if cost > 0 then
  local value = string.format('%d:%d', start, count + cost)
  if opens then
    redis.call('SET', key, value, 'PX', math.max(1, math.ceil(reset_ms)))
  else
    redis.call('SET', key, value, 'KEEPTTL')
  end
end
return result(1, limit - count - cost, reset_ms, 0)
`,
};
