import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { expectNoStore, expectProblem, expectStandardHeaders, expectUser } from './assertions.ts';
import type { Api, HttpResponse } from './http.ts';
import type { ContractContext } from './suite.ts';

/** The members of a 201: the key, once, and nothing of its hash. */
const CREATED = ['created_at', 'expires_at', 'id', 'key', 'name', 'scopes'];
/** The members of a listed key: never the key. */
const LISTED = [
  'created_at',
  'expires_at',
  'id',
  'last_used_at',
  'name',
  'owner_id',
  'revoked_at',
  'scopes',
];
const KEY = /^usersapi_[A-Za-z0-9]{16}_[A-Za-z0-9]{42}$/;

interface Created {
  readonly id: string;
  readonly key: string;
  readonly response: HttpResponse;
}

async function createKey(api: Api, token: string, json: object = { name: 'CI' }): Promise<Created> {
  const response = await api.post('/api/v1/api-keys', { token, json });
  expect(response.status, response.text).toBe(201);
  const body = response.body as { id: string; key: string };
  return { id: body.id, key: body.key, response };
}

/** The key and its secret part (what follows the id) appear nowhere in `responses`. */
function expectNotEchoed(key: string, responses: readonly HttpResponse[]): void {
  const secret = key.slice(key.lastIndexOf('_') + 1);
  for (const response of responses) {
    const seen = response.text + JSON.stringify(response.headers);
    expect(seen.includes(key), `${response.status} echoes the key`).toBe(false);
    expect(seen.includes(secret), `${response.status} echoes the secret`).toBe(false);
  }
}

/** The key never reached the example's stdout or stderr (after its writes have arrived). */
async function expectNotLogged(get: () => ContractContext, ...keys: string[]): Promise<void> {
  const { api, example } = get();
  // Lines are written as answers finish and piped asynchronously: wait for the access
  // log line of a request made after the key's, which also proves the log is captured.
  const marker = await api.get('/api/v1/api-keys');
  const id = marker.headers['x-request-id'] as string;
  const deadline = Date.now() + 5000;
  while (!example.logged(id) && Date.now() < deadline) await sleep(50);
  expect(
    example.logged(id),
    `no access log line for request ${id}: is LOG_LEVEL info or lower?`,
  ).toBe(true);
  for (const key of keys) {
    expect(example.logged(key), 'the key is in a log line').toBe(false);
    expect(example.logged(key.slice(key.lastIndexOf('_') + 1)), 'the secret is logged').toBe(false);
  }
}

/**
 * `POST/GET/DELETE /api/v1/api-keys` and keys on a Bearer route: created once, used
 * through both headers, listed without secrets, revoked for good, owned, never echoed
 * and never logged.
 */
export function apiKeysContract(get: () => ContractContext): void {
  it('POST /api-keys: 201 with the key once; it works as X-API-Key and as Bearer; listed without it; DELETE 204 then 401', async () => {
    const { api, mint } = get();
    const user = await api.register('keys');
    const token = await mint(user);
    const created = await createKey(api, token, {
      name: 'CI deploy',
      scopes: ['users:read'],
      expires_in: 3600,
    });
    const body = created.response.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(CREATED);
    expect(body).toMatchObject({ name: 'CI deploy', scopes: ['users:read'] });
    expect(created.key).toMatch(KEY);
    expect(created.key).toContain(`_${created.id}_`);
    const expiresIn = Date.parse(body.expires_at as string) - Date.parse(body.created_at as string);
    expect(expiresIn).toBe(3_600_000);
    expectNoStore(created.response);
    expectStandardHeaders(created.response);

    const viaHeader = await api.get('/api/v1/users/me', { headers: { 'x-api-key': created.key } });
    expect(viaHeader.status, viaHeader.text).toBe(200);
    expectUser(viaHeader.body, { id: user.id, email: user.email });
    expectNoStore(viaHeader);
    const viaBearer = await api.get('/api/v1/users/me', { token: created.key });
    expect(viaBearer.status, viaBearer.text).toBe(200);
    expectUser(viaBearer.body, { id: user.id });

    const list = await api.get('/api/v1/api-keys', { token });
    expect(list.status, list.text).toBe(200);
    expectNoStore(list);
    const items = (list.body as { items: Record<string, unknown>[] }).items;
    expect(items).toHaveLength(1);
    expect(Object.keys(items[0] as object).sort()).toEqual(LISTED);
    expect(items[0]).toMatchObject({
      id: created.id,
      name: 'CI deploy',
      owner_id: user.id,
      scopes: ['users:read'],
      revoked_at: null,
    });
    expect(list.text).not.toMatch(/hash/i);

    const revoked = await api.delete(`/api/v1/api-keys/${created.id}`, { token });
    expect(revoked.status, revoked.text).toBe(204);
    expect(revoked.text).toBe('');
    const refusals = [
      await api.get('/api/v1/users/me', { headers: { 'x-api-key': created.key } }),
      await api.get('/api/v1/users/me', { token: created.key }),
    ];
    for (const refused of refusals) {
      expectProblem(refused, 401, 'ERR_API_KEY_REVOKED');
      expect(refused.headers['www-authenticate']).toMatch(
        /^Bearer realm="api", error="invalid_token"/,
      );
    }
    const after = await api.get('/api/v1/api-keys', { token });
    const [listedAfter] = (after.body as { items: Record<string, unknown>[] }).items;
    expect(listedAfter?.revoked_at).toEqual(expect.any(String));
    // Revoking again is idempotent.
    expect((await api.delete(`/api/v1/api-keys/${created.id}`, { token })).status).toBe(204);

    expectNotEchoed(created.key, [viaHeader, viaBearer, list, revoked, ...refusals, after]);
    await expectNotLogged(get, created.key);
  });

  it('a malformed, tampered, truncated or unknown key: 401 problem that never echoes it', async () => {
    const { api, mint } = get();
    const token = await mint(await api.register('badkey'));
    const { key } = await createKey(api, token);
    const last = key.at(-1) === 'a' ? 'b' : 'a';
    const bad = {
      'wrong checksum': key.slice(0, -1) + last,
      truncated: key.slice(0, -3),
      'another id': key.replace(/_([A-Za-z0-9]{16})_/, '_AAAAAAAAAAAAAAAA_'),
      'prefix only': 'usersapi_',
      garbage: 'usersapi_not-a-key',
      'another prefix': `org_${key.slice('usersapi_'.length)}`,
    };
    const responses: HttpResponse[] = [];
    for (const [what, credential] of Object.entries(bad)) {
      for (const response of [
        await api.get('/api/v1/users/me', { headers: { 'x-api-key': credential } }),
        await api.get('/api/v1/users/me', { token: credential }),
      ]) {
        expectProblem(response, 401);
        expect(response.headers['www-authenticate'], what).toMatch(/error="invalid_token"/);
        expect(response.text.includes(credential), `${what} echoed`).toBe(false);
        responses.push(response);
      }
    }
    expectNotEchoed(key, responses);
    await expectNotLogged(get, key, ...Object.values(bad).filter((b) => b.length > 20));
  });

  it("DELETE /api-keys/:id: someone else's key is 404 (as an unknown id) and keeps working; an admin may revoke it", async () => {
    const { api, mint, adminToken } = get();
    const owner = await api.register('owner');
    const other = await api.register('other');
    const { id, key } = await createKey(api, await mint(owner));
    const otherToken = await mint(other);
    const foreign = await api.delete(`/api/v1/api-keys/${id}`, { token: otherToken });
    expectProblem(foreign, 404, 'ERR_NOT_FOUND');
    const unknown = await api.delete('/api/v1/api-keys/AAAAAAAAAAAAAAAA', { token: otherToken });
    expectProblem(unknown, 404, 'ERR_NOT_FOUND');
    // Same answer for both: a key id cannot be probed (OWASP API1:2023).
    expect((foreign.body as { detail?: string }).detail).toBe(
      (unknown.body as { detail?: string }).detail,
    );
    expectProblem(await api.delete('/api/v1/api-keys/not-an-id', { token: otherToken }), 422);
    expect((await api.get('/api/v1/users/me', { headers: { 'x-api-key': key } })).status).toBe(200);
    // Listing: nobody else's keys without admin; an admin may ask by owner.
    expect(
      ((await api.get('/api/v1/api-keys', { token: otherToken })).body as { items: [] }).items,
    ).toEqual([]);
    expectProblem(
      await api.get(`/api/v1/api-keys?owner=${owner.id}`, { token: otherToken }),
      403,
      'ERR_FORBIDDEN',
    );
    const asAdmin = await api.get(`/api/v1/api-keys?owner=${owner.id}`, { token: adminToken });
    expect(asAdmin.status, asAdmin.text).toBe(200);
    expect((asAdmin.body as { items: { id: string }[] }).items.map((k) => k.id)).toEqual([id]);
    expect((await api.delete(`/api/v1/api-keys/${id}`, { token: adminToken })).status).toBe(204);
    expectProblem(await api.get('/api/v1/users/me', { headers: { 'x-api-key': key } }), 401);
  });

  it('a key cannot manage keys (403) and holds no role: an admin route refuses it', async () => {
    const { api, adminToken } = get();
    const { id, key } = await createKey(api, adminToken, { name: 'admin automation' });
    const attempts = [
      await api.post('/api/v1/api-keys', { token: key, json: { name: 'more' } }),
      await api.get('/api/v1/api-keys', { headers: { 'x-api-key': key } }),
      await api.delete(`/api/v1/api-keys/${id}`, { token: key }),
      // The guard runs before validation: a key learns nothing of the input rules.
      await api.post('/api/v1/api-keys', { token: key, json: { name: '' } }),
    ];
    for (const attempt of attempts) expectProblem(attempt, 403, 'ERR_API_KEY_NOT_ALLOWED');
    // Least privilege: a key names no role, so it has none of its owner's.
    expectProblem(await api.get('/api/v1/users', { token: key }), 403, 'ERR_FORBIDDEN');
    const me = await api.get('/api/v1/users/me', { token: key });
    expect(me.status, me.text).toBe(200);
    expectNotEchoed(key, [...attempts, me]);
    expect((await api.delete(`/api/v1/api-keys/${id}`, { token: adminToken })).status).toBe(204);
  });

  it('POST /api-keys: 401 without a token; 422 for a bad name, scope, expiry or an unknown member', async () => {
    const { api, mint } = get();
    expectProblem(await api.post('/api/v1/api-keys', { json: { name: 'x' } }), 401);
    expectProblem(await api.get('/api/v1/api-keys'), 401);
    expectProblem(await api.delete('/api/v1/api-keys/AAAAAAAAAAAAAAAA'), 401);
    const token = await mint(await api.register('keyinput'));
    const invalid = [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 'x', scopes: ['admin'] },
      { name: 'x', scopes: 'users:read' },
      { name: 'x', expires_in: 0 },
      { name: 'x', expires_in: -5 },
      { name: 'x', expires_in: 1.5 },
      { name: 'x', expires_in: 365 * 86_400 + 1 },
      { name: 'x', roles: ['admin'] },
      { name: 'x', owner: 'someone-else' },
    ];
    for (const json of invalid) {
      const response = await api.post('/api/v1/api-keys', { token, json });
      expectProblem(response, 422, 'ERR_VALIDATION');
      expectNoStore(response);
    }
    expect(((await api.get('/api/v1/api-keys', { token })).body as { items: [] }).items).toEqual(
      [],
    );
  });

  it('an expired key: 401 ERR_API_KEY_EXPIRED (1-second lifetime, polled for at most 5 s)', async () => {
    // The example's clock cannot be faked from outside its process, so the key gets the
    // shortest lifetime allowed and the test polls; the library's tests cover expiry
    // with a test clock.
    const { api, mint } = get();
    const token = await mint(await api.register('expiry'));
    const { key, response } = await createKey(api, token, { name: 'short', expires_in: 1 });
    const body = response.body as { created_at: string; expires_at: string };
    expect(Date.parse(body.expires_at) - Date.parse(body.created_at)).toBe(1000);
    const deadline = Date.now() + 5000;
    let last: HttpResponse;
    do {
      last = await api.get('/api/v1/users/me', { headers: { 'x-api-key': key } });
      if (last.status !== 200) break;
      await sleep(100);
    } while (Date.now() < deadline);
    expectProblem(last, 401, 'ERR_API_KEY_EXPIRED');
    expectNotEchoed(key, [last]);
  });

  it('GET /openapi.json documents the API key routes with bearer security and their 4xx', async () => {
    const { api } = get();
    const doc = (await api.get('/openapi.json')).body as {
      paths: Record<string, Record<string, { security?: unknown; responses: object }>>;
    };
    const operations = {
      'POST /api/v1/api-keys': ['401', '403', '422', '429'],
      'GET /api/v1/api-keys': ['401', '403', '422', '429'],
      'DELETE /api/v1/api-keys/{id}': ['401', '403', '404', '422', '429'],
    };
    for (const [name, statuses] of Object.entries(operations)) {
      const [method, path] = name.split(' ') as [string, string];
      const operation = doc.paths[path]?.[method.toLowerCase()];
      expect(operation?.security, name).toEqual([{ bearer: [] }]);
      expect(Object.keys(operation?.responses ?? {}), name).toEqual(
        expect.arrayContaining(statuses),
      );
    }
  });
}
