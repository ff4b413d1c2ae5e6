/** What the checks share: one requester, tokens obtained once, forgeries made once. */
import { createRequester, type Requester, type TestResponse } from '../requests/requester.js';
import { deriveForgeries, type PublicJwk } from '../tokens/derive-forgeries.js';
import type { Forgery } from '../tokens/forgery-names.js';
import { ensure, expectStatus } from './assert.js';
import { ConformanceSkip } from './conformance-error.js';
import type { ConformanceCredentials, SecurityConformanceOptions } from './types.js';

/** A successful login. */
export interface LoginResult {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly response: TestResponse;
}

/** Shared state of one suite run. */
export interface ConformanceSession {
  readonly api: Requester;
  readonly options: SecurityConformanceOptions;
  /** Signs in (a fresh session each call). */
  login(who: 'user' | 'admin'): Promise<LoginResult>;
  /** An access token of the non-admin user. */
  userToken(): Promise<string>;
  /** An admin access token, or a skip when none can be had. */
  adminToken(): Promise<string>;
  /** Every forgery this app can be attacked with, made once. */
  forgeries(): Promise<readonly Forgery[]>;
  close(): Promise<void>;
}

const formLogin = (credentials: ConformanceCredentials) => ({
  form: { grant_type: 'password', username: credentials.username, password: credentials.password },
});

/** Creates the shared state; nothing is sent until a check asks. */
export function createSession(options: SecurityConformanceOptions): ConformanceSession {
  const api = createRequester(options.app ?? (options.baseUrl as string));
  const { routes, tokenFactory } = options;
  const subjects = {
    user: options.tokenSubjects?.user ?? { subject: 'user-1', roles: ['user'] },
    admin: options.tokenSubjects?.admin ?? { subject: 'admin-1', roles: ['admin'] },
  };
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, make: () => Promise<T>): Promise<T> => {
    let value = memo.get(key) as Promise<T> | undefined;
    if (value === undefined) memo.set(key, (value = make()));
    return value;
  };

  const login = async (who: 'user' | 'admin'): Promise<LoginResult> => {
    const credentials = options.credentials?.[who];
    if (routes.login === undefined || credentials === undefined) {
      throw new ConformanceSkip(`no routes.login or credentials.${who} to sign in with`);
    }
    const request = (options.loginRequest ?? formLogin)(credentials);
    const response = await api.post(routes.login, request);
    expectStatus(response, 200, `login as ${who}`);
    const body = response.body as Record<string, unknown> | undefined;
    ensure(
      typeof body?.access_token === 'string',
      `login as ${who}: no access_token in the body`,
      response,
    );
    const refreshToken = typeof body.refresh_token === 'string' ? body.refresh_token : undefined;
    return { accessToken: body.access_token, refreshToken, response };
  };

  const token = (who: 'user' | 'admin') =>
    once(`token:${who}`, async () => {
      const given = options.tokens?.[who];
      if (given !== undefined) return given;
      if (routes.login !== undefined && options.credentials?.[who] !== undefined) {
        return (await login(who)).accessToken;
      }
      if (tokenFactory !== undefined) return tokenFactory.accessToken(subjects[who]);
      throw new ConformanceSkip(
        `no way to get a ${who} token: give tokens.${who}, credentials.${who} or tokenFactory`,
      );
    });

  const publicKeys = async (): Promise<PublicJwk[] | undefined> => {
    if (routes.jwks === undefined) return undefined;
    const response = await api.get(routes.jwks);
    expectStatus(response, 200, 'JWKS');
    const keys = (response.body as { keys?: unknown } | undefined)?.keys;
    ensure(Array.isArray(keys), 'JWKS: the body has no "keys" array', response);
    ensure(
      !keys.some((key: Record<string, unknown>) => 'd' in key || key.kty === 'oct'),
      'JWKS publishes a private key or a secret',
      response,
    );
    return keys as PublicJwk[];
  };

  const forgeries = () =>
    once('forgeries', async () => {
      const refreshToken = await (routes.login !== undefined && options.credentials?.user
        ? login('user').then((result) => result.refreshToken)
        : Promise.resolve(undefined));
      const keys = await publicKeys();
      let list: Forgery[];
      if (tokenFactory !== undefined) {
        list = await tokenFactory.forgeries(subjects.user);
        if (keys !== undefined && keys.length > 0) {
          // Key confusion with what the app really publishes.
          const confused = await deriveForgeries(await tokenFactory.accessToken(subjects.user), {
            publicKeys: keys,
          });
          const names = new Set(
            confused.filter((f) => f.name.startsWith('hs256-')).map((f) => f.name),
          );
          list = [
            ...list.filter((f) => !names.has(f.name)),
            ...confused.filter((f) => names.has(f.name)),
          ];
        }
      } else {
        list = await deriveForgeries(await token('user'), { publicKeys: keys ?? [] });
      }
      return refreshToken === undefined
        ? list
        : list.map((f) =>
            f.name === 'refresh-token-as-access' ? { ...f, token: refreshToken } : f,
          );
    });

  return {
    api,
    options,
    login,
    userToken: () => token('user'),
    adminToken: () => token('admin'),
    forgeries,
    close: () => api.close(),
  };
}
