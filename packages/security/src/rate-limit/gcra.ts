import { type Algorithm, type AlgorithmState, EPSILON, LUA_RESULT, result } from './algorithm.js';

/** Memory state of {@link gcra}. */
export interface GcraState extends AlgorithmState {
  /** Theoretical arrival time: when the bucket would be empty again, in epoch ms. */
  tat: number;
}

/**
 * Generic Cell Rate Algorithm (ITU-T I.371, the "virtual scheduling" form): a
 * leaky bucket stored as one timestamp. Units drip back one every `window / limit`
 * ms; a full quota can be spent in a burst. The smoothest of the three, and one
 * number per key.
 */
export const gcra: Algorithm<GcraState> = {
  create: () => ({ tat: 0, touchedAt: 0 }),
  apply(state, policy, cost, now) {
    const window = policy.windowMs;
    const interval = window / policy.limit;
    const tat = Math.max(state.tat, now);
    const next = tat + cost * interval;
    if (next - now > window + EPSILON) {
      return result(false, (window - (tat - now)) / interval, tat - now, next - window - now);
    }
    if (cost > 0) state.tat = next;
    return result(true, (window - (next - now)) / interval, next - now, 0);
  },
  lua: `${LUA_RESULT}
local interval = window / limit
local tat = tonumber(redis.call('GET', key)) or now
if tat < now then tat = now end
local next_tat = tat + cost * interval
if next_tat - now > window + EPSILON then
  return result(0, (window - (tat - now)) / interval, tat - now, next_tat - window - now)
end
if cost > 0 then
  redis.call('SET', key, string.format('%.17g', next_tat), 'PX', math.max(1, math.ceil(next_tat - now)))
end
return result(1, (window - (next_tat - now)) / interval, next_tat - now, 0)
`,
};
