import { type Algorithm, type AlgorithmState, EPSILON, LUA_RESULT, result } from './algorithm.js';

/** Memory state of {@link fixedWindow}. */
export interface FixedWindowState extends AlgorithmState {
  /** When the current window opened (the first hit after the previous one closed). */
  start: number;
  /** Units used in the current window. */
  count: number;
}

/**
 * The Lua both fixed-window scripts start with: the key's window (`start`, `count`), a
 * new one when the last has ended (`opens`), and `save(count)`. The state is one string
 * "<start>:<count>": GET and SET, two commands per hit. The window's expiry does not
 * move, so only the write that opens it sets a TTL; the others keep it (KEEPTTL, Redis
 * >= 6.0), which spares Redis an expiry update and the rewrite of PX into PXAT for
 * replication (about 0.9 µs per hit).
 */
const WINDOW_STATE = `
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
local function save(new_count)
  local value = string.format('%d:%d', start, new_count)
  if opens then
    redis.call('SET', key, value, 'PX', math.max(1, math.ceil(start + window - now)))
  else
    redis.call('SET', key, value, 'KEEPTTL')
  end
end
`;

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
  lua: `${LUA_RESULT}${WINDOW_STATE}
local reset_ms = start + window - now
if count + cost > limit + EPSILON then
  return result(0, limit - count, reset_ms, reset_ms)
end
if cost > 0 then save(count + cost) end
return result(1, limit - count - cost, reset_ms, 0)
`,
};

/**
 * The lease of `RedisRateLimitStore`'s leasing mode, on the key and state of
 * {@link fixedWindow}: takes up to `ARGV[3]` units of the current window at once and
 * counts them as used, so instances sharing the key never admit more than the limit
 * between them. Replies `{granted, remaining, start}`; 0 granted means the window is
 * spent. Then the instance spends the units from memory until the window ends.
 */
export const FIXED_WINDOW_LEASE_LUA = `${LUA_RESULT}${WINDOW_STATE}
local granted = math.max(0, math.min(cost, math.floor(limit - count + EPSILON)))
if granted > 0 then save(count + granted) end
return {granted, math.max(0, math.floor(limit - count - granted + EPSILON)), start}
`;

/**
 * Gives back `ARGV[1]` leased units a process did not use, when the window they came
 * from (`ARGV[2]` is its start) is still the current one. Replies 1 when given back.
 */
export const FIXED_WINDOW_RELEASE_LUA = `
local saved = redis.call('GET', KEYS[1])
if not saved then return 0 end
local s, c = string.match(saved, '^([^:]+):([^:]+)$')
if tonumber(s) ~= tonumber(ARGV[2]) then return 0 end
local count = math.max(0, tonumber(c) - tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d:%d', tonumber(s), count), 'KEEPTTL')
return 1
`;
