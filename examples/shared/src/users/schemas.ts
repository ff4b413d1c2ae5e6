import * as z from 'zod';

/**
 * The request and response shapes of the users API. Requests are strict objects: an
 * unknown member (`role`, `is_superuser`) is a 422, never silently applied or ignored.
 * The same schemas validate requests and generate `/openapi.json`.
 */

/** Emails are stored lower-case, so `Ann@Example.com` and `ann@example.com` are one account. */
const email = z
  .email()
  .max(254)
  .transform((value) => value.toLowerCase());
const displayName = z.string().trim().min(1).max(100);

export const RegisterRequest = z
  .strictObject({
    email,
    /** 12 characters at least (NIST SP 800-63B 3.1.1.2 asks 8; more is cheap), 1024 at most (hashing cost). */
    password: z.string().min(12).max(1024),
    name: displayName.optional(),
  })
  .meta({ id: 'RegisterRequest' });

export const UpdateMeRequest = z
  .strictObject({ name: displayName })
  .meta({ id: 'UpdateMeRequest' });

/** An empty or unknown token is a 401 from the session store, like any other invalid token. */
export const RefreshRequest = z
  .strictObject({ refresh_token: z.string().max(512) })
  .meta({ id: 'RefreshRequest' });

export const ListUsersQuery = z.object({
  limit: z.number().int().min(1).max(100).default(20).describe('Page size, 1 to 100.'),
  offset: z.number().int().min(0).default(0).describe('Users to skip.'),
});

export const UserIdParams = z.object({ id: z.uuid() });

export const User = z
  .object({
    id: z.uuid(),
    email: z.email(),
    name: z.string().nullable(),
    roles: z.array(z.string()),
    is_active: z.boolean(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'User', description: 'A user as the API shows it: never the password hash.' });

export const UserPage = z
  .object({
    items: z.array(User),
    total: z.number().int().min(0),
    limit: z.number().int().min(1).max(100),
    offset: z.number().int().min(0),
  })
  .meta({ id: 'UserPage' });

export const TokenResponse = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int().positive().describe('Seconds until the access token expires.'),
  })
  .meta({ id: 'TokenResponse', description: 'An OAuth2 token response (RFC 6749 5.1).' });

export type RegisterInput = z.output<typeof RegisterRequest>;
export type UserDto = z.output<typeof User>;
export type TokenPair = z.output<typeof TokenResponse>;
