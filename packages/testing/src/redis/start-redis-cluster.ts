import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { infoFields, onlineReplicas, redisCommand, waitFor } from '../internal/redis-command.js';
import {
  baseArguments,
  RedisProcess,
  SERVER_READY,
  startOnFreePorts,
} from '../internal/redis-process.js';
import { RedisHarnessError, RedisNotInstalledError } from './redis-errors.js';
import type { RedisFailover, RedisNodeAddress } from './redis-topology.js';

/**
 * Options of {@link startRedisCluster}.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster({ nodeTimeoutMs: 2000, startTimeoutMs: 60_000 });
 * ```
 */
export interface StartRedisClusterOptions {
  /** The `redis-server` binary. @default 'redis-server' (from PATH) */
  binary?: string;
  /** The `redis-cli` binary, which creates the cluster. @default 'redis-cli' (from PATH) */
  cliBinary?: string;
  /**
   * `cluster-node-timeout`: how long a master may be unreachable before its replica
   * takes over. Small, so a failover in a test takes a few seconds.
   * @default 1000
   */
  nodeTimeoutMs?: number;
  /** Milliseconds to wait for the cluster to be ready (every node `cluster_state:ok`, replicas in sync). @default 30000 */
  startTimeoutMs?: number;
  /** Milliseconds {@link RedisCluster.killMaster} waits for the promotion. @default 30000 */
  failoverTimeoutMs?: number;
}

/**
 * Which master {@link RedisCluster.killMaster} kills: the one serving a key's slot, or one by index.
 *
 * @example
 * ```ts
 * await cluster.killMaster({ key: store.keyOf('203.0.113.7', policy) });
 * await cluster.killMaster({ index: 0 }); // the master of slots 0-5460
 * ```
 */
export type RedisClusterMasterTarget =
  | {
      /** A key: the master that owns its hash slot (hash tags count, as in Redis). */
      readonly key: string;
    }
  | {
      /** An index into {@link RedisCluster.masters}, ordered by slot range (0, 1 or 2). */
      readonly index: number;
    };

/**
 * A real Redis Cluster of three masters with one replica each, on free loopback ports,
 * from {@link startRedisCluster}.
 *
 * @example
 * ```ts
 * const client = new Cluster([...cluster.nodes]);
 * const { promoted } = await cluster.killMaster({ key: 'k' });
 * expect(await cluster.masterOf('k')).toEqual(promoted);
 * ```
 */
export interface RedisCluster {
  /** All six nodes: pass them to ioredis as start-up nodes, `new Cluster(cluster.nodes)`. */
  readonly nodes: readonly RedisNodeAddress[];
  /** The masters that serve slots now, ordered by their first slot. */
  masters(): Promise<RedisNodeAddress[]>;
  /** The master that serves `key`'s hash slot now. */
  masterOf(key: string): Promise<RedisNodeAddress>;
  /**
   * Kills a master (SIGKILL) and resolves once its replica has been promoted and every
   * live node says `cluster_state:ok` with the new master in place.
   */
  killMaster(target: RedisClusterMasterTarget): Promise<RedisFailover>;
  /** Starts every killed node again; each rejoins as a replica. Resolves once the cluster is whole and in sync. */
  restartKilled(): Promise<void>;
  /** Kills every node and removes their directories. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const SIZE = 6;

interface ClusterNode {
  readonly port: number;
  readonly process: RedisProcess;
}

/** One line of `CLUSTER NODES`. */
interface NodeEntry {
  readonly port: number;
  readonly flags: readonly string[];
  readonly slots: readonly (readonly [number, number])[];
}

/** Flags of a node that is not (yet, or any more) a healthy member. */
const UNHEALTHY = ['fail', 'fail?', 'handshake', 'noaddr'];

function parseNodes(reply: unknown): NodeEntry[] {
  return String(reply)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, address = '', flags = '', , , , , , ...slots] = line.trim().split(' ');
      const port = Number(address.split('@')[0]?.split(':').pop());
      return {
        port,
        flags: flags.split(','),
        slots: slots
          .filter((slot) => !slot.startsWith('['))
          .map((slot) => {
            const [from, to = from] = slot.split('-');
            return [Number(from), Number(to)] as const;
          }),
      };
    });
}

const isServingMaster = (entry: NodeEntry): boolean =>
  entry.flags.includes('master') &&
  !entry.flags.some((flag) => UNHEALTHY.includes(flag)) &&
  entry.slots.length > 0;

const owns = (entry: NodeEntry, slot: number): boolean =>
  entry.slots.some(([from, to]) => slot >= from && slot <= to);

function runCli(cli: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cli, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        reject(new RedisNotInstalledError(cli));
      } else if (error) {
        reject(
          new RedisHarnessError(
            'cluster-create-failed',
            `${cli} ${args.join(' ')} failed:\n${stdout}${stderr}`,
            error,
          ),
        );
      } else resolve(stdout);
    });
  });
}

/**
 * Starts a real Redis Cluster for tests: six `redis-server` processes
 * (`cluster-enabled yes`, each on a free port with its own temporary directory)
 * joined by `redis-cli --cluster create --cluster-replicas 1` into three masters with
 * one replica each. Resolves once every node reports `cluster_state:ok` and every
 * replica is in sync. `cluster-node-timeout` is small (1 s), so
 * {@link RedisCluster.killMaster} sees a replica promoted within a few seconds.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * const client = new Cluster([...cluster.nodes]);
 * await client.set('{user:1}:name', 'ann');
 * await cluster.killMaster({ key: '{user:1}:name' }); // its replica takes over
 * await client.get('{user:1}:name');                  // same client, new master
 * client.disconnect();
 * await cluster.stop();
 * ```
 * @throws {@link RedisNotInstalledError} when `redis-server` or `redis-cli` is not on PATH,
 *   and {@link RedisHarnessError} when the cluster does not start or settle in time.
 */
export async function startRedisCluster(
  options: StartRedisClusterOptions = {},
): Promise<RedisCluster> {
  const binary = options.binary ?? 'redis-server';
  const cli = options.cliBinary ?? 'redis-cli';
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 30_000;
  const root = await mkdtemp(join(tmpdir(), 'org-redis-cluster-'));
  const nodes: ClusterNode[] = [];
  const killed = new Set<ClusterNode>();
  const live = () => nodes.filter((node) => !killed.has(node));

  const startNode = async (index: number): Promise<ClusterNode> => {
    const dir = join(root, `node-${index}`);
    await mkdir(dir);
    const { process, ports } = await startOnFreePorts(2, ([port, busPort]) => {
      const args = baseArguments(port as number, dir);
      args.push(
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
        // The bus port must be free too; port + 10000 may not be, or may not exist.
        '--cluster-port',
        String(busPort),
        // A replica may always take over, however long its link was down.
        '--cluster-replica-validity-factor',
        '0',
      );
      return new RedisProcess({ binary, args, ready: SERVER_READY, timeoutMs: 10_000 });
    });
    const node = { port: ports[0] as number, process };
    nodes.push(node);
    return node;
  };

  /** `CLUSTER NODES` as seen by a live node. */
  const view = async (): Promise<NodeEntry[]> => {
    let lastError: unknown;
    for (const node of live()) {
      try {
        return parseNodes(await redisCommand(node.port, ['CLUSTER', 'NODES']));
      } catch (error) {
        lastError = error;
      }
    }
    throw new RedisHarnessError('no-such-master', 'No cluster node answers.', lastError);
  };

  /** Resolves once every node is up, agrees on three serving masters and three replicas, all in sync. */
  const settle = (timeoutMs: number): Promise<true> =>
    waitFor(
      async () => {
        const checks = await Promise.all(
          nodes.map(async ({ port }) => {
            const info = infoFields(await redisCommand(port, ['CLUSTER', 'INFO']));
            if (info.cluster_state !== 'ok' || info.cluster_known_nodes !== String(SIZE))
              return false;
            const entries = parseNodes(await redisCommand(port, ['CLUSTER', 'NODES']));
            if (entries.some((entry) => entry.flags.some((flag) => UNHEALTHY.includes(flag))))
              return false;
            if (entries.filter(isServingMaster).length !== 3) return false;
            if (entries.filter((entry) => entry.flags.includes('slave')).length !== 3) return false;
            const replication = infoFields(await redisCommand(port, ['INFO', 'replication']));
            // Both ends of each link: the replica loaded the data set, and its master counts
            // it online (a `WAIT` right after start-up would otherwise time out).
            return replication.role === 'master'
              ? onlineReplicas(replication) >= 1
              : replication.master_link_status === 'up';
          }),
        );
        return checks.every(Boolean) ? true : undefined;
      },
      timeoutMs,
      (lastError) =>
        new RedisHarnessError(
          'not-ready',
          `The Redis Cluster on ports ${nodes.map((n) => n.port).join(', ')} did not settle within ${timeoutMs} ms.`,
          lastError,
        ),
      100,
    );

  const cluster: RedisCluster = {
    get nodes() {
      return nodes.map(({ port }) => ({ host: HOST, port }));
    },

    async masters() {
      return (await view())
        .filter(isServingMaster)
        .sort((a, b) => (a.slots[0]?.[0] ?? 0) - (b.slots[0]?.[0] ?? 0))
        .map(({ port }) => ({ host: HOST, port }));
    },

    async masterOf(key) {
      const [first] = live();
      if (first === undefined) throw new RedisHarnessError('no-such-master', 'No node is alive.');
      const slot = Number(await redisCommand(first.port, ['CLUSTER', 'KEYSLOT', key]));
      const owner = (await view()).find((entry) => isServingMaster(entry) && owns(entry, slot));
      if (owner === undefined) {
        throw new RedisHarnessError('no-such-master', `No live master serves slot ${slot}.`);
      }
      return { host: HOST, port: owner.port };
    },

    async killMaster(target) {
      let master: RedisNodeAddress | undefined;
      if ('key' in target) master = await cluster.masterOf(target.key);
      else master = (await cluster.masters())[target.index];
      const node = nodes.find((candidate) => candidate.port === master?.port);
      if (master === undefined || node === undefined) {
        throw new RedisHarnessError('no-such-master', `No master ${JSON.stringify(target)}.`);
      }
      const slot = (await view()).find((entry) => entry.port === node.port)?.slots[0]?.[0] ?? 0;
      const started = performance.now();
      await node.process.kill();
      killed.add(node);
      const promoted = await waitFor(
        async () => {
          const owners = await Promise.all(
            live().map(async ({ port }) => {
              const info = infoFields(await redisCommand(port, ['CLUSTER', 'INFO']));
              if (info.cluster_state !== 'ok') return undefined;
              const entries = parseNodes(await redisCommand(port, ['CLUSTER', 'NODES']));
              return entries.find((entry) => isServingMaster(entry) && owns(entry, slot))?.port;
            }),
          );
          const [owner] = owners;
          if (owner === undefined || owner === node.port) return undefined;
          return owners.every((port) => port === owner) ? owner : undefined;
        },
        failoverTimeoutMs,
        (lastError) =>
          new RedisHarnessError(
            'failover-timeout',
            `No replica of 127.0.0.1:${node.port} was promoted within ${failoverTimeoutMs} ms.`,
            lastError,
          ),
      );
      return {
        killed: master,
        promoted: { host: HOST, port: promoted },
        elapsedMs: Math.round(performance.now() - started),
      };
    },

    async restartKilled() {
      await Promise.all([...killed].map((node) => node.process.start()));
      killed.clear();
      await settle(startTimeoutMs);
    },

    async stop() {
      // Nothing is persisted, so nothing is lost by killing: stop at once.
      await Promise.all(nodes.map((node) => node.process.kill()));
      await rm(root, { recursive: true, force: true });
    },
  };

  try {
    await Promise.all(Array.from({ length: SIZE }, (_, index) => startNode(index)));
    await runCli(
      cli,
      [
        '--cluster',
        'create',
        ...nodes.map(({ port }) => `${HOST}:${port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      startTimeoutMs,
    );
    await settle(startTimeoutMs);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
