// Preloaded into the soaked example (`node --import`): appends the process's memory to
// SOAK_PROBE_FILE every SOAK_PROBE_MS, one JSON line each, through public APIs only.
// Every SOAK_LIVE_EVERY-th line also has `live`, the heap used right after a full
// garbage collection (the example runs with --expose-gc): the heap the process really
// holds, where `heapUsed` alone swings with whatever garbage awaits collection.
import { appendFileSync } from 'node:fs';

const file = process.env.SOAK_PROBE_FILE;
if (file !== undefined) {
  const every = Number(process.env.SOAK_PROBE_MS ?? '10000');
  const liveEvery = Number(process.env.SOAK_LIVE_EVERY ?? '0');
  let count = 0;
  const write = () => {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    const point = { at: Date.now(), rss, heapUsed, heapTotal, external };
    if (liveEvery > 0 && typeof globalThis.gc === 'function' && count % liveEvery === 0) {
      globalThis.gc();
      point.live = process.memoryUsage().heapUsed;
    }
    count++;
    appendFileSync(file, `${JSON.stringify(point)}\n`);
  };
  setInterval(write, every).unref();
  write();
}
