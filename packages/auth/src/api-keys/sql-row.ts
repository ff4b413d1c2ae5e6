import type { StoredApiKey } from './types.js';

/** A row of the SQL stores' `api_keys` table, as the driver returns it. */
export type ApiKeyRow = Readonly<Record<string, unknown>>;

/** The columns both SQL stores select, in the table's order. */
export const API_KEY_COLUMNS =
  'id, hash, name, owner, scopes, roles, created_at, expires_at, last_used_at, revoked_at';

function optional(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}

/**
 * A stored key from a row of either SQL store. `list` decodes `scopes` and `roles`:
 * JSON text in SQLite, `text[]` arrays in PostgreSQL. Times may come as numbers or, from
 * node-postgres' `bigint`, strings.
 */
export function apiKeyFromRow(row: ApiKeyRow, list: (value: unknown) => string[]): StoredApiKey {
  const roles = row.roles === null || row.roles === undefined ? undefined : list(row.roles);
  const expiresAt = optional(row.expires_at);
  const lastUsedAt = optional(row.last_used_at);
  const revokedAt = optional(row.revoked_at);
  return {
    id: String(row.id),
    hash: String(row.hash),
    name: String(row.name),
    owner: String(row.owner),
    scopes: list(row.scopes),
    ...(roles === undefined ? {} : { roles }),
    createdAt: Number(row.created_at),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(lastUsedAt === undefined ? {} : { lastUsedAt }),
    ...(revokedAt === undefined ? {} : { revokedAt }),
  };
}
