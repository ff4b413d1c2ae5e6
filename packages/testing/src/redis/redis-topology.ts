/**
 * The address of one Redis server, in the shape ioredis takes (`new Cluster(nodes)`, `sentinels`).
 *
 * @example
 * ```ts
 * const master: RedisNodeAddress = await cluster.masterOf('rl:{203.0.113.7}');
 * const admin = new Redis(master.port, master.host);
 * ```
 */
export interface RedisNodeAddress {
  /** Always `127.0.0.1`: test servers listen on loopback only. */
  readonly host: string;
  /** The server's port. */
  readonly port: number;
}

/**
 * What {@link RedisCluster.killMaster} and {@link RedisSentinelSet.killMaster} did.
 *
 * @example
 * ```ts
 * const { killed, promoted, elapsedMs } = await sentinel.killMaster();
 * expect(promoted.port).not.toBe(killed.port);
 * ```
 */
export interface RedisFailover {
  /** The master that was killed (SIGKILL). */
  readonly killed: RedisNodeAddress;
  /** The replica that was promoted in its place. */
  readonly promoted: RedisNodeAddress;
  /** Milliseconds from the kill until every live node (or sentinel) named the new master. */
  readonly elapsedMs: number;
}
