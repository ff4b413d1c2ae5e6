import { type Algorithm, type AlgorithmState, EPSILON, LUA_RESULT, result } from './algorithm.js';

/** Memory state of {@link slidingWindow}. */
export interface SlidingWindowState extends AlgorithmState {
  /** Start of the clock-aligned window `current` counts. */
  start: number;
  /** Units used in the window before `start`. */
  previous: number;
  /** Units used since `start`. */
  current: number;
}

/**
 * Sliding window counter (the approximation Cloudflare and nginx use): the previous
 * window's count weighted by how much of it still overlaps the sliding window, plus
 * the current count. Two numbers per key, no burst at window edges.
 *
 * `resetMs` is when the estimate falls to zero; `retryAfterMs` is the first moment
 * the hit would fit, found by solving the weighted sum for time.
 */
export const slidingWindow: Algorithm<SlidingWindowState> = {
  create: () => ({ start: Number.NEGATIVE_INFINITY, previous: 0, current: 0, touchedAt: 0 }),
  apply(state, policy, cost, now) {
    const window = policy.windowMs;
    const limit = policy.limit;
    let start = now - (now % window);
    if (state.start > start) {
      // Another instance's clock is ahead (Redis) or the clock stepped back: use the
      // newer window rather than overwrite it with an older one.
      start = state.start;
      now = start;
    }
    let previous = 0;
    let current = 0;
    if (state.start === start) {
      previous = state.previous;
      current = state.current;
    } else if (state.start === start - window) {
      previous = state.current;
    }
    const left = window - (now - start);
    const used = (previous * left) / window + current;
    if (used + cost > limit + EPSILON) {
      let retry: number;
      if (previous > 0 && limit - current - cost >= 0) {
        retry = left - ((limit - current - cost) * window) / previous;
      } else if (current > 0 && limit - cost >= 0) {
        retry = left + Math.max(0, window - ((limit - cost) * window) / current);
      } else {
        retry = left + window;
      }
      const reset = current > 0 ? left + window : left;
      return result(false, limit - used, reset, retry);
    }
    if (cost > 0) {
      state.start = start;
      state.previous = previous;
      state.current = current + cost;
    }
    const after = current + cost;
    return result(
      true,
      limit - used - cost,
      after > 0 ? left + window : previous > 0 ? left : 0,
      0,
    );
  },
  // State is one string "<start>:<previous>:<current>": GET and SET per hit. The TTL
  // (the end of the window after this one) is set when a window opens and kept
  // (KEEPTTL) by the hits inside it, as in fixed-window.
  lua: `${LUA_RESULT}
local start = now - (now % window)
local saved, previous_saved, current_saved
local state = redis.call('GET', key)
if state then
  local s, p, c = string.match(state, '^([^:]+):([^:]+):([^:]+)$')
  saved = tonumber(s)
  previous_saved = tonumber(p) or 0
  current_saved = tonumber(c) or 0
end
if saved ~= nil and saved > start then
  start = saved
  now = saved
end
local previous = 0
local current = 0
if saved == start then
  previous = previous_saved
  current = current_saved
elseif saved == start - window then
  previous = current_saved
end
local left = window - (now - start)
local used = (previous * left) / window + current
if used + cost > limit + EPSILON then
  local retry
  if previous > 0 and limit - current - cost >= 0 then
    retry = left - ((limit - current - cost) * window) / previous
  elseif current > 0 and limit - cost >= 0 then
    retry = left + math.max(0, window - ((limit - cost) * window) / current)
  else
    retry = left + window
  end
  local reset = left
  if current > 0 then reset = left + window end
  return result(0, limit - used, reset, retry)
end
if cost > 0 then
  local value = string.format('%d:%d:%d', start, previous, current + cost)
  if saved == start then
    redis.call('SET', key, value, 'KEEPTTL')
  else
    redis.call('SET', key, value, 'PX', math.max(1, math.ceil(left + window)))
  end
end
local reset = 0
if current + cost > 0 then reset = left + window elseif previous > 0 then reset = left end
return result(1, limit - used - cost, reset, 0)
`,
};
