import {
  type RedisCluster,
  type RedisFailover,
  type RedisSentinelSet,
  type RedisServer,
  startRedis,
  startRedisCluster,
  startRedisSentinel,
} from '@org/testing';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/** The Redis deployments every Redis store is tested on. */
export type RedisTopologyName = 'single' | 'cluster' | 'sentinel';

/** One running deployment and the clients of a test file. */
export interface RedisTopology {
  readonly name: RedisTopologyName;
  /** The file's shared client: `Redis` (single, Sentinel) or `Cluster`, with the fail-fast options the READMEs recommend. */
  readonly client: Redis | Cluster;
  /** A new client on this deployment (`options` over the fail-fast defaults); disconnected after the file. */
  connect(options?: ClientOptions): Redis | Cluster;
  /** A plain connection to the master that holds `key` now, for admin commands (`CLIENT PAUSE`, `INFO`). */
  masterOf(key: string): Promise<Redis>;
  /** Plain connections to every master now. */
  masters(): Promise<Redis[]>;
  /** `KEYS pattern` over every master. */
  keys(pattern: string): Promise<string[]>;
  /** Kills the master of `key`'s slot (Cluster) or the master (Sentinel) and waits for the promotion. */
  killMaster(key: string): Promise<RedisFailover>;
  /** Starts the killed servers again as replicas and waits until they are in sync. */
  restartKilled(): Promise<void>;
}

/** The client options a test may change. */
export type ClientOptions = Pick<
  RedisOptions,
  | 'maxRetriesPerRequest'
  | 'commandTimeout'
  | 'connectTimeout'
  | 'enableOfflineQueue'
  | 'retryStrategy'
>;

/** What the READMEs recommend: a command fails fast instead of waiting for Redis. */
const DEFAULTS: ClientOptions = {
  maxRetriesPerRequest: 1,
  commandTimeout: 1000,
  connectTimeout: 2000,
  retryStrategy: (times) => Math.min(times * 50, 500),
};

const ignore = (): void => {};

class Topology implements RedisTopology {
  readonly name: RedisTopologyName;
  single: RedisServer | undefined;
  cluster: RedisCluster | undefined;
  sentinel: RedisSentinelSet | undefined;
  #client: Redis | Cluster | undefined;
  readonly #clients: (Redis | Cluster)[] = [];
  readonly #admins = new Map<number, Redis>();

  constructor(name: RedisTopologyName) {
    this.name = name;
  }

  async start(): Promise<void> {
    const started = performance.now();
    switch (this.name) {
      case 'single':
        this.single = await startRedis();
        break;
      case 'cluster':
        this.cluster = await startRedisCluster();
        break;
      case 'sentinel':
        this.sentinel = await startRedisSentinel();
        break;
      default:
        this.name satisfies never;
    }
    this.#client = this.connect();
    if (process.env.ORG_REDIS_TIMINGS) {
      console.info(`${this.name} Redis started in ${Math.round(performance.now() - started)} ms`);
    }
  }

  async stop(): Promise<void> {
    for (const client of [...this.#clients, ...this.#admins.values()]) client.disconnect();
    await Promise.all([this.single?.stop(), this.cluster?.stop(), this.sentinel?.stop()]);
  }

  get client(): Redis | Cluster {
    if (this.#client === undefined) {
      throw new Error(`The ${this.name} Redis is not started: use it inside a test or hook.`);
    }
    return this.#client;
  }

  connect(options: ClientOptions = {}): Redis | Cluster {
    const merged = { ...DEFAULTS, ...options };
    let client: Redis | Cluster;
    if (this.cluster !== undefined) {
      const { retryStrategy: _, enableOfflineQueue, ...redisOptions } = merged;
      client = new Cluster([...this.cluster.nodes], {
        redisOptions,
        ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
        slotsRefreshTimeout: 1000,
        clusterRetryStrategy: (times) => Math.min(times * 50, 500),
      });
      client.on('node error', ignore);
    } else if (this.sentinel !== undefined) {
      client = new Redis({
        sentinels: [...this.sentinel.sentinels],
        name: this.sentinel.name,
        sentinelRetryStrategy: (times) => Math.min(times * 50, 500),
        ...merged,
      });
    } else {
      client = new Redis((this.single as RedisServer).url, merged);
    }
    client.on('error', ignore); // failovers and outages are expected; the stores report their own failures
    this.#clients.push(client);
    return client;
  }

  #admin(port: number): Redis {
    let admin = this.#admins.get(port);
    if (admin === undefined) {
      admin = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      admin.on('error', ignore);
      this.#admins.set(port, admin);
    }
    return admin;
  }

  async masterOf(key: string): Promise<Redis> {
    if (this.cluster !== undefined) return this.#admin((await this.cluster.masterOf(key)).port);
    if (this.sentinel !== undefined) return this.#admin((await this.sentinel.master()).port);
    return this.#admin((this.single as RedisServer).port);
  }

  async masters(): Promise<Redis[]> {
    if (this.cluster === undefined) return [await this.masterOf('')];
    return (await this.cluster.masters()).map(({ port }) => this.#admin(port));
  }

  async keys(pattern: string): Promise<string[]> {
    const all = await Promise.all((await this.masters()).map((admin) => admin.keys(pattern)));
    return all.flat();
  }

  killMaster(key: string): Promise<RedisFailover> {
    if (this.cluster !== undefined) return this.cluster.killMaster({ key });
    if (this.sentinel !== undefined) return this.sentinel.killMaster();
    throw new Error('A single Redis has no replica to fail over to.');
  }

  async restartKilled(): Promise<void> {
    await this.cluster?.restartKilled();
    await this.sentinel?.restartKilled();
  }
}

/**
 * Starts each named Redis deployment once for the calling test file (in `beforeAll`,
 * all at once) and stops it after the file; suites run `describe.each(topologies)`.
 * A single server, a Cluster of three masters with a replica each, and a master with
 * a replica behind three sentinels. `ORG_REDIS_TIMINGS=1` prints each start-up time.
 */
export function redisTopologies(
  names: readonly RedisTopologyName[] = ['single', 'cluster', 'sentinel'],
): readonly RedisTopology[] {
  const topologies = names.map((name) => new Topology(name));
  beforeAll(async () => {
    const started = await Promise.allSettled(topologies.map((topology) => topology.start()));
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }, 90_000);
  afterAll(async () => {
    await Promise.all(topologies.map((topology) => topology.stop()));
  }, 30_000);
  return topologies;
}
