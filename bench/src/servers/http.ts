// The HTTP benchmark servers of issue 9. Usage (from run.ts, with BENCH_SETUP set):
//   node http.ts <express|fastify|koa|hono|node> <bare|peer|ours|peer-obs|ours-obs> <port>
import type { StackName } from './http/types.ts';

const [framework = 'node', stack = 'bare', portText = '3000'] = process.argv.slice(2);
const port = Number(portText);
if (!['express', 'fastify', 'koa', 'hono', 'node'].includes(framework)) {
  throw new Error(`unknown framework ${framework}`);
}
if (stack === 'bare') {
  // Exit normally on the runner's SIGTERM, so --cpu-prof profiles get written.
  process.on('SIGTERM', () => process.exit(0));
  // With the Redis store: bare node:http plus one Redis GET per request (the RSS floor).
  const setup = JSON.parse(process.env.BENCH_SETUP ?? '{}') as {
    store?: string;
    redisPort?: number;
    statsFile?: string;
  };
  const { bare, bareWithRedis } = await import('./http/bare.ts');
  if (setup.store !== 'redis') await bare[framework]?.(port);
  else if (framework !== 'node') throw new Error('bare with Redis runs on node only');
  else await bareWithRedis(port, setup.redisPort as number, setup.statsFile as string);
} else {
  const { stacks } = (await import(`./http/${framework}.ts`)) as typeof import('./http/node.ts');
  const factory = stacks[stack as StackName];
  if (factory === undefined) throw new Error(`${framework} has no "${stack}" server`);
  const { flushLogsOnTerm, readSetup, reportStatsOnSignal } = await import('./http/setup.ts');
  const setup = readSetup();
  reportStatsOnSignal(setup.statsFile);
  flushLogsOnTerm();
  await factory(setup, port);
}
