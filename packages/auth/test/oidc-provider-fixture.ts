/**
 * A real OpenID Provider (panva's oidc-provider) on a loopback port, issuing JWT
 * access tokens by the client credentials grant. Its keys can be swapped mid-test:
 * `rotate` starts a new Provider instance with the same issuer and new keys.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

export const RESOURCE = 'https://orders.example.test';
export const CLIENT = { id: 'billing-service', secret: 'billing-secret-0123456789abcdef' };

export interface ProviderKey {
  readonly kid: string;
  readonly jwk: JWK;
}

export async function providerKey(kid: string): Promise<ProviderKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, jwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' } };
}

export interface TestProvider {
  readonly issuer: string;
  /** Paths requested from the provider, in order. */
  readonly requests: string[];
  /** Serves these keys from now on; the first one signs. */
  rotate(keys: readonly ProviderKey[]): void;
  /** A client credentials access token (a JWT for {@link RESOURCE}). */
  token(scope?: string): Promise<string>;
  close(): Promise<void>;
}

function makeProvider(issuer: string, keys: readonly ProviderKey[]) {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: keys.map((key) => key.jwk) },
    cookies: { keys: ['a-cookie-key-for-the-test-provider'] },
    ttl: { ClientCredentials: 3600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'orders:read orders:write',
          audience: RESOURCE,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    extraTokenClaims: () => ({ roles: ['admin'], realm_access: { roles: ['auditor'] } }),
  });
  return provider.callback();
}

export async function startProvider(keys: readonly ProviderKey[]): Promise<TestProvider> {
  const requests: string[] = [];
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler?.(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  handler = makeProvider(issuer, keys);
  return {
    issuer,
    requests,
    rotate(next) {
      handler = makeProvider(issuer, next);
    },
    async token(scope = 'orders:read') {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: CLIENT.id,
          client_secret: CLIENT.secret,
          scope,
          resource: RESOURCE,
        }),
      });
      const body = (await response.json()) as { access_token?: string };
      if (response.status !== 200 || body.access_token === undefined) {
        throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
      }
      return body.access_token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
