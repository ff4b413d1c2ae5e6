// Preloaded into the soaked example (`node --import`): appends the process's memory to
// SOAK_PROBE_FILE every SOAK_PROBE_MS, one JSON line each, through public APIs only.
import { appendFileSync } from 'node:fs';

const file = process.env.SOAK_PROBE_FILE;
if (file !== undefined) {
  const every = Number(process.env.SOAK_PROBE_MS ?? '10000');
  const write = () => {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    appendFileSync(
      file,
      `${JSON.stringify({ at: Date.now(), rss, heapUsed, heapTotal, external })}\n`,
    );
  };
  setInterval(write, every).unref();
  write();
}
