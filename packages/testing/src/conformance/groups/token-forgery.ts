import {
  DERIVED_FORGERY_NAMES,
  type ForgeryName,
  KEY_CONFUSION_FORGERY_NAMES,
  SIGNED_FORGERIES,
} from '../../tokens/forgery-names.js';
import {
  bearer,
  expectChallenge,
  expectInvalidToken,
  expectProblem,
  expectStatus,
} from '../assert.js';
import { ConformanceSkip } from '../conformance-error.js';
import type { ConformanceSession } from '../session.js';
import type { ConformanceCheck, ConformanceGroup } from '../types.js';

/** RFC 8725 and RFC 6750: every forged token on the protected route is a 401 `invalid_token`. */
export function tokenForgeryGroup(
  session: ConformanceSession,
  log: (message: string) => void,
): ConformanceGroup {
  const { routes, tokenFactory } = session.options;
  const path = routes.protected;
  const get = (headers: Record<string, string | readonly string[]> = {}) =>
    session.api.get(path, { headers });

  const forgeryCheck = (name: ForgeryName): ConformanceCheck => ({
    id: `token-forgery/${name}`,
    title: `forged token "${name}" is 401 invalid_token`,
    async run() {
      const forgery = (await session.forgeries()).find((f) => f.name === name);
      if (forgery === undefined) throw new ConformanceSkip(`no "${name}" forgery for this key`);
      expectInvalidToken(await get(bearer(forgery.token)), `${name} (${forgery.description})`);
    },
  });

  const names: ForgeryName[] = [...DERIVED_FORGERY_NAMES];
  const canConfuse =
    routes.jwks !== undefined || (tokenFactory !== undefined && tokenFactory.key.alg !== 'HS256');
  if (canConfuse) names.push(...KEY_CONFUSION_FORGERY_NAMES);
  else
    log(
      'token-forgery: HS256-with-the-public-key forgeries skipped: no routes.jwks and no asymmetric tokenFactory key',
    );
  if (tokenFactory !== undefined) names.push(...(Object.keys(SIGNED_FORGERIES) as ForgeryName[]));
  else
    log(
      'token-forgery: expired / wrong aud / wrong iss / crit / typ forgeries skipped: they need tokenFactory (the app key)',
    );

  const checks: ConformanceCheck[] = [
    {
      id: 'token-forgery/valid-token',
      title: 'a valid token is accepted (else every forgery check would pass for nothing)',
      async run() {
        const response = await get(bearer(await session.userToken()));
        expectStatus(response, [200, 204], 'valid token on routes.protected');
      },
    },
    {
      id: 'token-forgery/missing-token',
      title: 'no token is 401 with a bare Bearer challenge',
      async run() {
        const response = await get();
        expectStatus(response, 401, 'no Authorization header');
        expectChallenge(response, undefined, 'no Authorization header');
        expectProblem(response, 'no Authorization header');
      },
    },
    ...names.map(forgeryCheck),
    {
      id: 'token-forgery/alg-relabelled',
      title: 'a signature relabelled with a sibling algorithm is 401 invalid_token',
      async run() {
        const relabelled = (await session.forgeries()).filter((f) =>
          f.name.startsWith('alg-relabelled-'),
        );
        if (relabelled.length === 0)
          throw new ConformanceSkip('no sibling algorithm to relabel to');
        for (const forgery of relabelled)
          expectInvalidToken(await get(bearer(forgery.token)), forgery.name);
      },
    },
    {
      id: 'token-forgery/query-string',
      title: 'a token in the query string is ignored (RFC 6750 5.3, RFC 9700 4.3.2)',
      async run() {
        const token = await session.userToken();
        const response = await session.api.get(path, { query: { access_token: token } });
        expectStatus(response, 401, 'access_token in the query string');
      },
    },
    {
      id: 'token-forgery/two-authorization-headers',
      title: 'two Authorization headers are refused, never merged',
      async run() {
        // In-process fetch apps receive the two values folded into one ("Bearer a, Bearer b"),
        // as a folding proxy would send them: that must be refused just the same.
        const forged = (await session.forgeries()).find((f) => f.name === 'alg-none');
        const values = [`Bearer ${await session.userToken()}`, `Bearer ${forged?.token ?? 'x'}`];
        const response = await get({ authorization: values });
        expectStatus(response, [400, 401], 'two Authorization headers');
        expectProblem(response, 'two Authorization headers');
      },
    },
  ];
  return { id: 'token-forgery', title: 'token forgery', checks };
}
