import type { TestResponse } from '../../requests/requester.js';
import { bearer, ensure, expectInvalidToken, expectStatus } from '../assert.js';
import { ConformanceError } from '../conformance-error.js';
import type { ConformanceSession } from '../session.js';
import type { ConformanceApiKeys, ConformanceCheck, ConformanceGroup } from '../types.js';

/** A key the group created, and every answer sent while it existed (the create answer aside). */
interface IssuedKey {
  readonly key: string;
  readonly id: string;
}

/** Parts of a key long enough to be its secret: a leak of the secret alone is a leak too. */
function secretsOf(key: string): string[] {
  return [key, ...key.split(/[_.:\-\s]/).filter((part) => part.length >= 20 && part !== key)];
}

async function logText(logs: ConformanceApiKeys['logs']): Promise<string | undefined> {
  if (logs === undefined) return undefined;
  const lines = await logs();
  return typeof lines === 'string' ? lines : lines.join('\n');
}

/**
 * API keys (OWASP API2:2023, RFC 6750 3.1): a key created through the app's own route
 * is accepted, refused with a 401 problem once revoked or when altered, and never
 * echoed in a response or written to the log.
 */
export function apiKeysGroup(
  session: ConformanceSession,
  config: ConformanceApiKeys,
): ConformanceGroup {
  const { api, options } = session;
  const protectedPath = options.routes.protected;
  const header = config.header === false ? undefined : (config.header ?? 'x-api-key').toLowerCase();
  const keyField = config.keyField ?? 'key';
  const idField = config.idField ?? 'id';
  /** Every key created, for the log check. */
  const issued: IssuedKey[] = [];
  /** Every answer the group received, the create answers aside, for the echo check. */
  const seen: TestResponse[] = [];
  const record = (response: TestResponse) => {
    seen.push(response);
    return response;
  };

  const create = async (): Promise<IssuedKey> => {
    const token = await session.userToken();
    const response = await api.post(config.create, {
      json: config.createBody ?? { name: 'security conformance' },
      headers: bearer(token),
    });
    expectStatus(response, [200, 201], 'creating an API key');
    const body = response.body as Record<string, unknown> | undefined;
    const key = body?.[keyField];
    const id = body?.[idField];
    ensure(
      typeof key === 'string' && key !== '',
      `the create answer has no "${keyField}"`,
      response,
    );
    ensure(
      typeof id === 'string' || typeof id === 'number',
      `the create answer has no "${idField}"`,
      response,
    );
    const created = { key, id: String(id) };
    issued.push(created);
    return created;
  };
  /** The protected route with the key in each way the app accepts one. */
  const callWith = async (key: string): Promise<[string, TestResponse][]> => {
    const calls: [string, TestResponse][] = [
      ['Authorization: Bearer', record(await api.get(protectedPath, { headers: bearer(key) }))],
    ];
    if (header !== undefined) {
      calls.push([header, record(await api.get(protectedPath, { headers: { [header]: key } }))]);
    }
    return calls;
  };
  const revoke = async (id: string) => {
    const response = record(
      await api.delete(config.revoke.replace(':id', encodeURIComponent(id)), {
        headers: bearer(await session.userToken()),
      }),
    );
    expectStatus(response, [200, 204], 'revoking an API key');
  };

  const checks: ConformanceCheck[] = [
    {
      id: 'api-keys/accepted',
      title:
        'a key created through the app admits on the protected route, in every header it takes',
      async run() {
        const { key } = await create();
        for (const [how, response] of await callWith(key)) {
          expectStatus(response, [200, 204], `a fresh API key as ${how}`);
        }
      },
    },
    {
      id: 'api-keys/revoked-refused',
      title: 'a revoked key is refused at once: 401 invalid_token problem, in every header',
      async run() {
        const { key, id } = await create();
        for (const [how, response] of await callWith(key)) {
          expectStatus(response, [200, 204], `the API key as ${how} before revocation`);
        }
        await revoke(id);
        for (const [how, response] of await callWith(key)) {
          expectInvalidToken(response, `a revoked API key as ${how}`);
        }
      },
    },
    {
      id: 'api-keys/altered-refused',
      title: 'an altered or truncated key is refused: 401 invalid_token problem',
      async run() {
        const { key } = await create();
        const last = key.at(-1) === 'A' ? 'B' : 'A';
        const altered = {
          'its last character changed': key.slice(0, -1) + last,
          'truncated by one character': key.slice(0, -1),
          'with a character appended': `${key}A`,
        };
        for (const [what, value] of Object.entries(altered)) {
          for (const [how, response] of await callWith(value)) {
            expectInvalidToken(response, `an API key with ${what}, as ${how}`);
          }
        }
      },
    },
    {
      id: 'api-keys/never-echoed',
      title: 'no response but its creation carries the key, and no log line either',
      async run() {
        const { key, id } = await create();
        await callWith(key);
        if (config.list !== undefined) {
          const list = record(
            await api.get(config.list, { headers: bearer(await session.userToken()) }),
          );
          expectStatus(list, 200, 'listing API keys');
        }
        await callWith(`${key.slice(0, -1)}${key.at(-1) === 'A' ? 'B' : 'A'}`);
        await revoke(id);
        await callWith(key);
        for (const { key: issuedKey } of issued) {
          for (const secret of secretsOf(issuedKey)) {
            for (const response of seen) {
              const headers = Object.entries(response.headers)
                .map(([name, value]) => `${name}: ${String(value)}`)
                .join('\n');
              ensure(
                !response.text.includes(secret) && !headers.includes(secret),
                'a response echoes an API key (or its secret): only the answer that created it may show it',
                response,
              );
            }
          }
        }
        const logs = await logText(config.logs);
        if (logs === undefined) return;
        for (const { key: issuedKey } of issued) {
          if (secretsOf(issuedKey).some((secret) => logs.includes(secret))) {
            throw new ConformanceError(
              'the log holds an API key (or its secret): log the key id, never the key',
            );
          }
        }
      },
    },
  ];
  return { id: 'api-keys', title: 'API keys', checks };
}
