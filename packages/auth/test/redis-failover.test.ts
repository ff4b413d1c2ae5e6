import { randomUUID } from 'node:crypto';
import {
  createApiKeys,
  createRefreshTokenManager,
  RedisApiKeyStore,
  RedisRefreshTokenStore,
} from '@org/auth';
import { redisTopologies } from '@org/test-support';
import { describe, expect, it } from 'vitest';

/**
 * A master dies in the middle of the test, on a Cluster and behind Sentinel. Until its
 * replica is promoted the refresh-token and API-key stores answer 503 (they fail
 * closed) or correctly, nothing else; afterwards the same clients answer correctly. With
 * `waitForReplicas`, a rotation the client was told about survives the failover, so a
 * replay of the old token is still caught.
 */

const topologies = redisTopologies(['cluster', 'sentinel']);

/** 'ok', or the HTTP status and code of the error. */
async function outcome(answer: Promise<unknown>): Promise<string> {
  try {
    await answer;
    return 'ok';
  } catch (error) {
    const { status, code } = error as { status?: number; code?: string };
    return `${status} ${code}`;
  }
}

/** The first answer that is not a 503: a store that is failing over is asked again. */
async function settled<T>(ask: () => Promise<T>, timeoutMs = 20_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const answer = await outcome(ask());
    if (!answer.startsWith('503 ') || performance.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The answer of `ask`, asked again until it succeeds. */
async function reachable<T>(ask: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await ask();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe.each(topologies)('auth stores through a $name failover', (topology) => {
  it('answer 503 or correctly while the master is down, and correctly after the promotion', async () => {
    const prefix = `fo${randomUUID()}:`;
    const families = new RedisRefreshTokenStore({ client: topology.client, prefix });
    const refresh = createRefreshTokenManager({ store: families });
    const keys = new RedisApiKeyStore({ client: topology.client, prefix });
    const apiKeys = createApiKeys({ store: keys });
    let { token, familyId } = await refresh.issue('u1');
    // An API key on the master about to die (on a Cluster, keys are drawn until one is).
    const doomed = (await topology.masterOf(families.familyKey(familyId))).options.port;
    let key = '';
    for (let i = 0; !key; i++) {
      const created = await apiKeys.create({ owner: 'u1', name: 'ci' });
      if ((await topology.masterOf(keys.keyOf(created.record.id))).options.port === doomed) {
        key = created.key;
      }
      expect(i).toBeLessThan(100);
    }

    let failedOver = false;
    const failover = topology.killMaster(families.familyKey(familyId)).finally(() => {
      failedOver = true;
    });
    const during: string[] = [];
    while (!failedOver) {
      // A family of its own each round: a rotation that timed out may still have run.
      const [rotated, verified] = await Promise.all([
        outcome(refresh.issue('u2').then((issued) => refresh.rotate(issued.token))),
        outcome(apiKeys.verify(key)),
      ]);
      during.push(rotated, verified);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { promoted } = await failover;
    // A family created in the last moment before the kill may not have reached the
    // replica (asynchronous replication): its token is then unknown, a 401.
    const allowed = [
      'ok',
      '503 ERR_REFRESH_STORE_UNAVAILABLE',
      '503 ERR_API_KEY_STORE_UNAVAILABLE',
      '401 ERR_REFRESH_INVALID',
    ];
    for (const answer of during) expect(allowed).toContain(answer);
    // The outage was seen: the key on the dead master could not be checked for a while.
    expect(during).toContain('503 ERR_API_KEY_STORE_UNAVAILABLE');
    expect(during.filter((answer) => answer.startsWith('401')).length).toBeLessThanOrEqual(1);

    // Same clients, new master: every operation answers correctly again, on the
    // promoted master (on a Cluster, keys are drawn until one lands there).
    expect(await settled(() => refresh.issue('u3'))).toBe('ok');
    const onPromoted = async (key: string) =>
      (await topology.masterOf(key)).options.port === promoted.port;
    for (let i = 0; ; i++) {
      ({ token, familyId } = await refresh.issue('u1'));
      if (await onPromoted(families.familyKey(familyId))) break;
      expect(i).toBeLessThan(100);
    }
    const next = await refresh.rotate(token);
    expect(next.familyId).toBe(familyId);
    expect(await outcome(refresh.rotate(token))).toBe('401 ERR_REFRESH_REUSED');
    expect(await outcome(refresh.rotate(next.token))).toBe('401 ERR_REFRESH_INVALID');
    await expect(apiKeys.verify(key)).resolves.toMatchObject({ owner: 'u1' });
    for (let i = 0; ; i++) {
      const other = await apiKeys.create({ owner: 'u1', name: `other${i}` });
      if (!(await onPromoted(keys.keyOf(other.record.id)))) {
        expect(i).toBeLessThan(100);
        continue;
      }
      await expect(apiKeys.verify(other.key)).resolves.toMatchObject({ name: `other${i}` });
      expect(await apiKeys.revoke(other.record.id)).toBe(true);
      expect(await outcome(apiKeys.verify(other.key))).toBe('401 ERR_API_KEY_REVOKED');
      break;
    }
  });

  it('with waitForReplicas, an acknowledged rotation survives the failover: the replay is still reuse', async () => {
    await topology.restartKilled(); // the previous test's master is back, as a replica
    const store = new RedisRefreshTokenStore({
      client: topology.client,
      prefix: `w${randomUUID()}:`,
      // Generous (CI's two cores are busy with other suites), yet below the client's
      // commandTimeout of 1000 ms, as the store requires.
      waitForReplicas: { replicas: 1, timeoutMs: 700 },
    });
    const refresh = createRefreshTokenManager({ store });
    // Answered once a replica has the rotation. The restarted node may still be taking
    // its full sync: a rotation no replica acknowledged in time is tried again on a new
    // family (its own first token is spent on the master, so it cannot be retried).
    const [first, second] = await reachable(async () => {
      const issued = await refresh.issue('u1');
      return [issued, await refresh.rotate(issued.token)] as const;
    });
    const familyKey = store.familyKey(first.familyId);
    await topology.killMaster(familyKey); // right after the rotation
    // Replay once the client reaches the new master: a replay that timed out during the
    // failover might still run later and make the next one look merely invalid.
    await reachable(() => topology.client.exists(familyKey));

    // The replica that took over knows the first token is spent: replaying it is reuse
    // (and revokes the family), never a second rotation.
    expect(await outcome(refresh.rotate(first.token))).toBe('401 ERR_REFRESH_REUSED');
    expect(await outcome(refresh.rotate(second.token))).toBe('401 ERR_REFRESH_INVALID');
  });
});
