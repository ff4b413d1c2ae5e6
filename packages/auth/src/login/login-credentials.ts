import { requestBody, type SchemaDependency } from '@org/core';
import { positiveInteger } from '@org/core/adapter';
import * as z from 'zod';

/** A login request, whichever form it came in. */
export interface LoginCredentials {
  /** The `username` of the OAuth2 form or the `email` of the JSON body. */
  readonly username: string;
  /** The password, exactly as sent (never trimmed). */
  readonly password: string;
  /** Requested OAuth2 scopes (RFC 6749 section 3.3), in order; empty when none. */
  readonly scopes: readonly string[];
}

/** Options of {@link loginCredentials}. */
export interface LoginCredentialsOptions {
  /** Longest accepted password; longer is 422 before any hashing (a hashing DoS guard). @default 1024 */
  maxPasswordLength?: number;
  /** Longest accepted username or email. @default 320 */
  maxUsernameLength?: number;
  /**
   * Require `grant_type=password` as RFC 6749 section 4.3.2 does. Off by default,
   * so JSON clients need not send it; a `grant_type` that is sent must be `password`.
   * @default false
   */
  requireGrantType?: boolean;
}

/**
 * The body of a login request as one typed value, from either the OAuth2 password
 * form (`application/x-www-form-urlencoded`: `grant_type=password`, `username`,
 * `password`, optional `scope`; RFC 6749 section 4.3.2) or JSON
 * `{ "email": ..., "password": ... }`. Anything else is a 422 problem with one
 * pointer per failed rule. Other fields (`client_id`) are ignored.
 *
 * @example
 * ```ts
 * const credentials = loginCredentials();
 * app.post('/auth/login', { credentials }, async (ctx, { credentials }) => {
 *   const user = await authenticate(credentials.username, credentials.password);
 *   ...
 * });
 * ```
 */
export function loginCredentials(
  options: LoginCredentialsOptions = {},
): SchemaDependency<LoginCredentials> {
  const maxPassword = positiveInteger(
    'loginCredentials',
    'maxPasswordLength',
    options.maxPasswordLength,
    1024,
  );
  const maxUsername = positiveInteger(
    'loginCredentials',
    'maxUsernameLength',
    options.maxUsernameLength,
    320,
  );
  const grantType = z.literal('password', { error: 'grant_type must be "password".' });
  const name = z.string().min(1).max(maxUsername);
  const schema = z
    .object({
      username: name.optional(),
      email: name.optional(),
      password: z.string().min(1).max(maxPassword),
      scope: z.string().max(4096).optional(),
      grant_type: options.requireGrantType === true ? grantType : grantType.optional(),
    })
    .check((payload) => {
      const { username, email } = payload.value;
      if (username === undefined && email === undefined) {
        payload.issues.push({
          code: 'custom',
          path: ['username'],
          message: 'Send a username (form) or an email (JSON).',
          input: payload.value,
        });
      } else if (username !== undefined && email !== undefined) {
        payload.issues.push({
          code: 'custom',
          path: ['email'],
          message: 'Send either username or email, not both.',
          input: payload.value,
        });
      }
    })
    .transform(
      (value): LoginCredentials => ({
        username: (value.username ?? value.email) as string,
        password: value.password,
        // RFC 6749 section 3.3: scope is a list of space-delimited strings.
        scopes: value.scope === undefined ? [] : value.scope.split(' ').filter(Boolean),
      }),
    );
  return requestBody(schema);
}
