import type { ApiKeyStore } from './types.js';

/** Keys remembered as recently written; past this, the oldest are forgotten (and may be written again). */
const MAX_REMEMBERED = 10_000;

/** Batches `lastUsedAt` writes: at most one per key per interval, in the background. @internal */
export interface LastUsedRecorder {
  /** Notes a use of key `id` at `now`, knowing the store's `lastUsedAt`. Never waits. */
  record(id: string, storedLastUsedAt: number | undefined, now: number): void;
  /** Writes what is pending and waits for every write begun. */
  flush(): Promise<void>;
}

/** @internal */
export function createLastUsedRecorder(
  store: ApiKeyStore,
  interval: number,
  onError: (error: unknown) => void,
): LastUsedRecorder {
  let pending = new Map<string, number>();
  const written = new Map<string, number>();
  let scheduled = false;
  let inFlight: Promise<void> = Promise.resolve();

  const write = (): Promise<void> => {
    scheduled = false;
    if (pending.size === 0) return inFlight;
    const batch = pending;
    pending = new Map();
    const done = store.touch(batch).catch(onError);
    inFlight = Promise.all([inFlight, done]).then(() => undefined);
    return inFlight;
  };

  return {
    record(id, storedLastUsedAt, now) {
      // The store's time covers other instances' writes; the local map, ours in flight.
      const last = Math.max(storedLastUsedAt ?? -Infinity, written.get(id) ?? -Infinity);
      if (now - last < interval) return;
      written.delete(id);
      written.set(id, now);
      if (written.size > MAX_REMEMBERED) written.delete(written.keys().next().value as string);
      pending.set(id, now);
      if (!scheduled) {
        scheduled = true;
        // After the current request's work: every use in this turn shares one write.
        setImmediate(write).unref();
      }
    },
    flush: () => write(),
  };
}
