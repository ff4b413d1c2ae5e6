import {
  type AccessTokenClaims,
  claimPresets,
  createAuth,
  createOidcVerifier,
  OidcDiscoveryError,
  type OidcVerifier,
  type Principal,
  TokenError,
} from '@org/auth';
import { ConfigurationError, createToolkit, ServiceUnavailableError } from '@org/core';
import { adapters, type RouteSpec, type RunningApp } from '@org/test-support';
import { importJWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem } from './auth-app.js';
import { manualClock } from './helpers.js';
import {
  type ProviderKey,
  providerKey,
  RESOURCE,
  startProvider,
  type TestProvider,
} from './oidc-provider-fixture.js';

let provider: TestProvider;
let firstKey: ProviderKey;

beforeAll(async () => {
  firstKey = await providerKey('key-1');
  provider = await startProvider([firstKey]);
});
afterAll(() => provider?.close());

/** A fetch that counts its calls, so a test can prove that none was made. */
function countingFetch() {
  const urls: string[] = [];
  const counted: typeof fetch = (input, init) => {
    urls.push(String(input));
    return fetch(input, init);
  };
  return { urls, fetch: counted };
}

function verifierFor(
  issuer: string,
  extra: Partial<Parameters<typeof createOidcVerifier>[0]> = {},
) {
  return createOidcVerifier({
    issuers: [issuer],
    audience: RESOURCE,
    allowHttpOnLoopback: true,
    ...extra,
  });
}

async function signedBy(key: ProviderKey, claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'someone', aud: RESOURCE, jti: 'j-1', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(await importJWK(key.jwk, 'ES256'));
}

function routes(verifier: OidcVerifier): RouteSpec[] {
  const auth = createAuth({ verifier, roles: ['admin', 'auditor', 'user'] });
  return [
    {
      method: 'GET',
      path: '/me',
      dependencies: { p: auth.principal },
      handler: (_ctx, values) => {
        const principal = values.p as Principal<AccessTokenClaims>;
        return {
          body: {
            id: principal.id,
            roles: [...principal.roles].sort(),
            scopes: [...principal.scopes].sort(),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/orders',
      dependencies: { u: auth.requireScopes('orders:write') },
      handler: () => ({ body: { ok: true } }),
    },
  ];
}

describe.each(adapters)('OIDC resource server on $name', (fixture) => {
  let app: RunningApp;
  beforeAll(async () => {
    const verifier = createOidcVerifier({
      issuers: [{ issuer: provider.issuer, claims: claimPresets.keycloak() }],
      audience: RESOURCE,
      allowHttpOnLoopback: true,
    });
    await verifier.ready();
    app = await fixture.start(createToolkit(), routes(verifier));
  });
  afterAll(() => app?.close());

  it('accepts a client credentials access token of the discovered issuer', async () => {
    const token = await provider.token('orders:read');
    // Twice: the second request is answered from the verified-token cache, mapped the same.
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${app.url}/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      // The Keycloak preset reads realm_access.roles (not the plain `roles` claim).
      expect(await response.json()).toEqual({
        id: 'billing-service',
        roles: ['auditor'],
        scopes: ['orders:read'],
      });
    }
  });

  it('runs requireScopes on the mapped scopes', async () => {
    const read = await provider.token('orders:read');
    const denied = await fetch(`${app.url}/orders`, {
      headers: { authorization: `Bearer ${read}` },
    });
    await expectProblem(denied, 403, 'ERR_INSUFFICIENT_SCOPE');
    const write = await provider.token('orders:read orders:write');
    const allowed = await fetch(`${app.url}/orders`, {
      headers: { authorization: `Bearer ${write}` },
    });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ ok: true });
  });

  it('answers 401 to a token of an issuer not configured, without any request', async () => {
    const before = provider.requests.length;
    const token = await signedBy(firstKey, { iss: 'https://evil.example.test/' });
    const response = await fetch(`${app.url}/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await expectProblem(response, 401, 'ERR_TOKEN_INVALID');
    expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(provider.requests.length).toBe(before);
  });
});

describe('discovery', () => {
  it('reads jwks_uri from the provider configuration', async () => {
    const counting = countingFetch();
    const verifier = verifierFor(provider.issuer, { fetch: counting.fetch });
    await verifier.ready();
    expect(counting.urls).toEqual([`${provider.issuer}/.well-known/openid-configuration`]);
    const claims = await verifier.verify(await provider.token());
    expect(claims).toMatchObject({
      iss: provider.issuer,
      sub: 'billing-service',
      roles: ['admin'],
    });
    expect(counting.urls.at(-1)).toBe(`${provider.issuer}/jwks`);
  });

  it('refuses a document whose issuer is not the configured one (Discovery 4.3)', async () => {
    // Same server, other spelling: the document says http://127.0.0.1:<port>.
    const spelled = provider.issuer.replace('127.0.0.1', 'localhost');
    const verifier = verifierFor(spelled);
    const error = await verifier.ready().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OidcDiscoveryError);
    expect(error).toMatchObject({ code: 'ERR_OIDC_DISCOVERY', issuer: spelled });
    expect((error as Error).message).toMatch(
      /names the issuer ".*127\.0\.0\.1.*", not the configured one/,
    );
  });

  it('answers 503 at request time when discovery fails, and retries only after the interval', async () => {
    const clock = manualClock(Date.now());
    const broken = `${provider.issuer}/missing`;
    const counting = countingFetch();
    const verifier = verifierFor(broken, {
      clock,
      fetch: counting.fetch,
      discoveryRetryInterval: 10_000,
    });
    const token = await signedBy(firstKey, { iss: broken });
    for (let i = 0; i < 2; i++) {
      const error = await verifier.verify(token).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ status: 503, code: 'ERR_JWKS_UNAVAILABLE' });
      expect((error as Error).cause).toBeInstanceOf(OidcDiscoveryError);
    }
    expect(counting.urls).toHaveLength(1);
    clock.advance(10_000);
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(counting.urls).toHaveLength(2);
  });

  it('refuses http unless allowHttpOnLoopback, and http on other hosts always', () => {
    expect(() => createOidcVerifier({ issuers: [provider.issuer], audience: RESOURCE })).toThrow(
      ConfigurationError,
    );
    expect(() =>
      createOidcVerifier({
        issuers: ['http://id.example.test/'],
        audience: RESOURCE,
        allowHttpOnLoopback: true,
      }),
    ).toThrow(/must be an https URL/);
    expect(() =>
      createOidcVerifier({ issuers: ['https://id.example.test/'], audience: [] }),
    ).toThrow(ConfigurationError);
  });

  it('answers 401 to an unknown issuer without any fetch, with several issuers configured', async () => {
    const counting = countingFetch();
    const verifier = createOidcVerifier({
      issuers: [provider.issuer, 'https://tenant.eu.auth0.com/'],
      audience: RESOURCE,
      allowHttpOnLoopback: true,
      fetch: counting.fetch,
    });
    for (const iss of ['https://other.example.test/', undefined, 42]) {
      const error = await verifier
        .verify(await signedBy(firstKey, iss === undefined ? {} : { iss }))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TokenError);
      expect(error).toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    }
    await expect(verifier.verify('not-a-jwt')).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    expect(counting.urls).toEqual([]);
    // The configured one is picked by `iss`: only its discovery and JWKS are fetched.
    await verifier.verify(await provider.token());
    expect(counting.urls).toEqual([
      `${provider.issuer}/.well-known/openid-configuration`,
      `${provider.issuer}/jwks`,
    ]);
  });
});

describe('key rotation at the provider', () => {
  const clock = manualClock(Date.now());
  let verifier: OidcVerifier;
  let counting: ReturnType<typeof countingFetch>;
  let rotating: TestProvider;
  let oldKey: ProviderKey;
  let newKey: ProviderKey;

  beforeEach(async () => {
    oldKey = await providerKey('old');
    newKey = await providerKey('new');
    rotating = await startProvider([oldKey]);
    counting = countingFetch();
    verifier = verifierFor(rotating.issuer, { clock, fetch: counting.fetch, cooldown: 30_000 });
    await verifier.ready();
  });
  afterEach(() => rotating?.close());

  it('verifies new-key tokens after the refresh; old-key tokens while the key is still published', async () => {
    const before = await rotating.token();
    await expect(verifier.verify(before)).resolves.toMatchObject({ sub: 'billing-service' });

    // The provider signs with a new key and still publishes the old one.
    rotating.rotate([newKey, oldKey]);
    const after = await rotating.token();
    // The unknown kid triggers a refetch, but not within the cooldown of the first fetch.
    await expect(verifier.verify(after)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    clock.advance(30_000);
    await expect(verifier.verify(after)).resolves.toMatchObject({ sub: 'billing-service' });
    await expect(verifier.verify(before)).resolves.toMatchObject({ sub: 'billing-service' });
    expect(counting.urls.filter((url) => url.endsWith('/jwks'))).toHaveLength(2);
  });

  it('refuses old-key tokens once a refreshed JWKS no longer has the key', async () => {
    const before = await rotating.token();
    await expect(verifier.verify(before)).resolves.toMatchObject({ sub: 'billing-service' });
    rotating.rotate([newKey]);
    const after = await rotating.token();
    clock.advance(30_000);
    await expect(verifier.verify(after)).resolves.toMatchObject({ sub: 'billing-service' });
    // The cached verification of the old token was dropped with its key.
    expect(verifier.cachedClaims?.(before)).toBeUndefined();
    await expect(verifier.verify(before)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' });
  });
});
