import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  infoFields,
  onlineReplicas,
  pairs,
  redisCommand,
  waitFor,
} from '../internal/redis-command.js';
import {
  baseArguments,
  RedisProcess,
  SENTINEL_READY,
  SERVER_READY,
  startOnFreePorts,
} from '../internal/redis-process.js';
import { RedisHarnessError } from './redis-errors.js';
import type { RedisFailover, RedisNodeAddress } from './redis-topology.js';

/**
 * Options of {@link startRedisSentinel}.
 *
 * @example
 * ```ts
 * const set = await startRedisSentinel({ name: 'cache', downAfterMs: 2000 });
 * ```
 */
export interface StartRedisSentinelOptions {
  /** The `redis-server` binary (sentinels run as `redis-server <conf> --sentinel`). @default 'redis-server' (from PATH) */
  binary?: string;
  /** The name the sentinels monitor the master under: ioredis' `name` option. @default 'org-master' */
  name?: string;
  /** `down-after-milliseconds`: how long the master may be unreachable before a failover starts. @default 1000 */
  downAfterMs?: number;
  /** Sentinel's `failover-timeout`; a failed election is retried after twice this. @default 2000 */
  sentinelFailoverTimeoutMs?: number;
  /** Milliseconds to wait for the set to be ready (replica in sync, sentinels aware of each other). @default 30000 */
  startTimeoutMs?: number;
  /** Milliseconds {@link RedisSentinelSet.killMaster} waits for the sentinels to name the new master. @default 30000 */
  failoverTimeoutMs?: number;
}

/**
 * A master, one replica and three sentinels (quorum 2), on free loopback ports, from
 * {@link startRedisSentinel}.
 *
 * @example
 * ```ts
 * const client = new Redis({ sentinels: [...set.sentinels], name: set.name });
 * await set.killMaster();
 * await set.restartKilled(); // a replica again, for the next failover
 * ```
 */
export interface RedisSentinelSet {
  /** The three sentinels: ioredis' `sentinels` option, `new Redis({ sentinels, name })`. */
  readonly sentinels: readonly RedisNodeAddress[];
  /** The monitored master's name: ioredis' `name` option. */
  readonly name: string;
  /** The master the sentinels name now. */
  master(): Promise<RedisNodeAddress>;
  /**
   * Kills the master (SIGKILL) and resolves once every sentinel names the promoted
   * replica and that replica says it is the master.
   */
  killMaster(): Promise<RedisFailover>;
  /** Starts every killed server again as a replica of the current master; resolves once it is in sync and the sentinels see it. */
  restartKilled(): Promise<void>;
  /** Kills every process and removes their directories. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

interface DataNode {
  readonly port: number;
  readonly dir: string;
  process: RedisProcess;
}

/** Flags of a sentinel's replica entry that mean it could not take over now. */
const REPLICA_DOWN = /s_down|o_down|disconnected/;

/**
 * Starts a real Redis Sentinel set-up for tests: a master, one replica and three
 * sentinels (`redis-server <conf> --sentinel`, quorum 2), each on a free port with its
 * own temporary directory. `down-after-milliseconds` (1 s) and `failover-timeout`
 * (2 s) are small, so {@link RedisSentinelSet.killMaster} sees the replica promoted
 * within a few seconds. Resolves once the replica is in sync and every sentinel
 * knows the replica and the two other sentinels.
 *
 * @example
 * ```ts
 * const set = await startRedisSentinel();
 * const client = new Redis({ sentinels: [...set.sentinels], name: set.name });
 * await client.set('k', 'v');
 * await set.killMaster();  // the sentinels promote the replica
 * await client.get('k');   // same client, new master
 * client.disconnect();
 * await set.stop();
 * ```
 * @throws {@link RedisNotInstalledError} when `redis-server` is not on PATH, and
 *   {@link RedisHarnessError} when the set does not start or settle in time.
 */
export async function startRedisSentinel(
  options: StartRedisSentinelOptions = {},
): Promise<RedisSentinelSet> {
  const binary = options.binary ?? 'redis-server';
  const name = options.name ?? 'org-master';
  const downAfterMs = options.downAfterMs ?? 1000;
  const sentinelFailoverTimeoutMs = options.sentinelFailoverTimeoutMs ?? 2000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 30_000;
  const root = await mkdtemp(join(tmpdir(), 'org-redis-sentinel-'));
  const data: DataNode[] = [];
  const sentinels: { port: number; process: RedisProcess }[] = [];
  const killed = new Set<DataNode>();

  const serverProcess = (port: number, dir: string, masterPort?: number) =>
    new RedisProcess({
      binary,
      args: [
        ...baseArguments(port, dir),
        ...(masterPort === undefined ? [] : ['--replicaof', HOST, String(masterPort)]),
      ],
      ready: SERVER_READY,
      timeoutMs: 10_000,
    });

  const startData = async (label: string, masterPort?: number): Promise<DataNode> => {
    const dir = join(root, label);
    await mkdir(dir);
    const { process, ports } = await startOnFreePorts(1, ([port]) =>
      serverProcess(port as number, dir, masterPort),
    );
    const node = { port: ports[0] as number, dir, process };
    data.push(node);
    return node;
  };

  const startSentinel = async (index: number, masterPort: number): Promise<void> => {
    const dir = join(root, `sentinel-${index}`);
    await mkdir(dir);
    const { process, ports } = await startOnFreePorts(1, async ([port]) => {
      const file = join(dir, 'sentinel.conf');
      // Sentinel rewrites its file as it learns the set-up, so each has its own.
      await writeFile(
        file,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${name} ${HOST} ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} ${sentinelFailoverTimeoutMs}`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      return new RedisProcess({
        binary,
        args: [file, '--sentinel'],
        ready: SENTINEL_READY,
        timeoutMs: 10_000,
      });
    });
    sentinels.push({ port: ports[0] as number, process });
  };

  /** The master named by one sentinel. */
  const named = async (port: number): Promise<number> => {
    const reply = await redisCommand(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]);
    if (!Array.isArray(reply)) throw new RedisHarnessError('no-such-master', 'No master named.');
    return Number(reply[1]);
  };

  /**
   * Resolves once every live server's replica link is up (the master counts its replicas
   * online, so a `WAIT` can) and every sentinel sees all of it.
   */
  const settle = (timeoutMs: number): Promise<true> =>
    waitFor(
      async () => {
        const replicas = data.length - killed.size - 1;
        const linked = await Promise.all(
          data
            .filter((node) => !killed.has(node))
            .map(async ({ port }) => {
              const replication = infoFields(await redisCommand(port, ['INFO', 'replication']));
              return replication.role === 'master'
                ? onlineReplicas(replication) >= replicas
                : replication.master_link_status === 'up';
            }),
        );
        if (!linked.every(Boolean)) return undefined;
        const seen = await Promise.all(
          sentinels.map(async ({ port }) => {
            const master = pairs(await redisCommand(port, ['SENTINEL', 'MASTER', name]));
            if (master.flags !== 'master') return false;
            if (master['num-other-sentinels'] !== String(sentinels.length - 1)) return false;
            const known = await redisCommand(port, ['SENTINEL', 'REPLICAS', name]);
            const healthy = (Array.isArray(known) ? known : [])
              .map(pairs)
              .filter((replica) => !REPLICA_DOWN.test(replica.flags ?? ''));
            return healthy.length >= replicas;
          }),
        );
        return seen.every(Boolean) ? true : undefined;
      },
      timeoutMs,
      (lastError) =>
        new RedisHarnessError(
          'not-ready',
          `The Redis Sentinel set-up (sentinels on ${sentinels.map((s) => s.port).join(', ')}) did not settle within ${timeoutMs} ms.`,
          lastError,
        ),
      100,
    );

  const set: RedisSentinelSet = {
    get sentinels() {
      return sentinels.map(({ port }) => ({ host: HOST, port }));
    },
    name,

    async master() {
      return { host: HOST, port: await named((sentinels[0] as { port: number }).port) };
    },

    async killMaster() {
      const { port } = await set.master();
      const node = data.find((candidate) => candidate.port === port);
      if (node === undefined || killed.has(node)) {
        throw new RedisHarnessError('no-such-master', `The master ${HOST}:${port} is not running.`);
      }
      const started = performance.now();
      await node.process.kill();
      killed.add(node);
      const promoted = await waitFor(
        async () => {
          const ports = await Promise.all(sentinels.map((sentinel) => named(sentinel.port)));
          const [next] = ports;
          if (next === undefined || next === port || ports.some((p) => p !== next)) {
            return undefined;
          }
          const replication = infoFields(await redisCommand(next, ['INFO', 'replication']));
          return replication.role === 'master' ? next : undefined;
        },
        failoverTimeoutMs,
        (lastError) =>
          new RedisHarnessError(
            'failover-timeout',
            `The sentinels did not promote a replica of ${HOST}:${port} within ${failoverTimeoutMs} ms.`,
            lastError,
          ),
      );
      return {
        killed: { host: HOST, port },
        promoted: { host: HOST, port: promoted },
        elapsedMs: Math.round(performance.now() - started),
      };
    },

    async restartKilled() {
      const { port: masterPort } = await set.master();
      await Promise.all(
        [...killed].map(async (node) => {
          // As a replica straight away: started as a master it would serve an empty
          // data set until a sentinel reconfigured it.
          node.process = serverProcess(node.port, node.dir, masterPort);
          await node.process.start();
        }),
      );
      killed.clear();
      await settle(startTimeoutMs);
    },

    async stop() {
      // Sentinels first, so none starts a failover while the servers go; nothing is persisted.
      await Promise.all(sentinels.map((sentinel) => sentinel.process.kill()));
      await Promise.all(data.map((node) => node.process.kill()));
      await rm(root, { recursive: true, force: true });
    },
  };

  try {
    const master = await startData('master');
    await startData('replica', master.port);
    await Promise.all([0, 1, 2].map((index) => startSentinel(index, master.port)));
    await settle(startTimeoutMs);
  } catch (error) {
    await set.stop();
    throw error;
  }
  return set;
}
