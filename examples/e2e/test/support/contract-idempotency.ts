import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { expectProblem, expectStandardHeaders, expectUser } from './assertions.ts';
import { uniqueEmail } from './http.ts';
import type { ContractContext } from './suite.ts';

/** A fresh key in the draft's syntax: an sf-string. */
const newKey = () => `"${randomUUID()}"`;

/** Safe retries with `Idempotency-Key` on the two routes that accept it. */
export function idempotencyContract(get: () => ContractContext): void {
  it('POST /auth/register with Idempotency-Key: a retry replays the 201, never a 409 duplicate', async () => {
    const { api } = get();
    const key = newKey();
    const json = { email: uniqueEmail('idem'), password: 'correct horse battery staple' };
    const headers = { 'idempotency-key': key };
    const first = await api.post('/api/v1/auth/register', { json, headers });
    expect(first.status, first.text).toBe(201);
    expectUser(first.body, { email: json.email });
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    const retry = await api.post('/api/v1/auth/register', { json, headers });
    expect(retry.status, retry.text).toBe(201);
    expect(retry.text).toBe(first.text);
    expect(retry.headers['content-type']).toBe(first.headers['content-type']);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    // Per request, not replayed: its own request id and the standard headers.
    expectStandardHeaders(retry);
    expect(retry.headers['x-request-id']).not.toBe(first.headers['x-request-id']);

    // The same key with another body is a client bug: 422, nothing created.
    const other = await api.post('/api/v1/auth/register', {
      json: { ...json, email: uniqueEmail('idem') },
      headers,
    });
    expectProblem(other, 422, 'ERR_IDEMPOTENCY_KEY_REUSED');
    // Without the key, the same sign-up is the duplicate it is.
    expectProblem(await api.post('/api/v1/auth/register', { json }), 409, 'ERR_EMAIL_TAKEN');
  });

  it('POST /auth/register: a malformed Idempotency-Key is a 400 problem', async () => {
    const { api } = get();
    const json = { email: uniqueEmail('idem'), password: 'correct horse battery staple' };
    for (const key of ['unquoted', '""', `"${'k'.repeat(256)}"`]) {
      const response = await api.post('/api/v1/auth/register', {
        json,
        headers: { 'idempotency-key': key },
      });
      expectProblem(response, 400, 'ERR_IDEMPOTENCY_KEY_INVALID');
    }
  });

  it("PATCH /users/me with Idempotency-Key: replayed for its user only, another user's key is theirs", async () => {
    const { api, mint } = get();
    const [ann, bob] = await Promise.all([api.register('idem-ann'), api.register('idem-bob')]);
    const [annToken, bobToken] = await Promise.all([mint(ann), mint(bob)]);
    const key = newKey();
    const headers = { 'idempotency-key': key };
    const first = await api.patch('/api/v1/users/me', {
      token: annToken,
      json: { name: 'Ann' },
      headers,
    });
    expect(first.status, first.text).toBe(200);
    expectUser(first.body, { id: ann.id, name: 'Ann' });
    const retry = await api.patch('/api/v1/users/me', {
      token: annToken,
      json: { name: 'Ann' },
      headers,
    });
    expect(retry.status).toBe(200);
    expect(retry.text).toBe(first.text);
    expect(retry.headers['idempotent-replayed']).toBe('true');

    // Bob's request with Ann's key runs as Bob's: keys are scoped to the principal.
    const bobs = await api.patch('/api/v1/users/me', {
      token: bobToken,
      json: { name: 'Ann' },
      headers,
    });
    expect(bobs.status, bobs.text).toBe(200);
    expectUser(bobs.body, { id: bob.id, name: 'Ann' });
    expect(bobs.headers['idempotent-replayed']).toBeUndefined();

    // A refused request is not stored: without a token it is 401, and the key stays free.
    const freshKey = newKey();
    const anonymous = await api.patch('/api/v1/users/me', {
      json: { name: 'Bob' },
      headers: { 'idempotency-key': freshKey },
    });
    expectProblem(anonymous, 401);
    const bobRenamed = await api.patch('/api/v1/users/me', {
      token: bobToken,
      json: { name: 'Bob' },
      headers: { 'idempotency-key': freshKey },
    });
    expect(bobRenamed.status, bobRenamed.text).toBe(200);
    expect(bobRenamed.headers['idempotent-replayed']).toBeUndefined();
  });
}
