import { positiveInteger } from '@org/core/adapter';
import type {
  NewRefreshTokenFamily,
  RefreshTokenStore,
  RotationRequest,
  RotationResult,
} from './types.js';

/** Options of {@link MemoryRefreshTokenStore}. */
export interface MemoryRefreshTokenStoreOptions {
  /**
   * Most families kept at once. When full, expired families at the old end go first,
   * then the oldest family is evicted (its user must log in again).
   * @default 100000
   */
  maxFamilies?: number;
}

interface Family {
  readonly userId: string;
  readonly familyExpiresAt: number;
  current: string;
  expiresAt: number;
  /** Hashes this family has spent: presenting one again is reuse. */
  readonly spent: Set<string>;
}

/** How many expired families at the old end one insertion may sweep. */
const SWEEP = 4;

/**
 * Refresh-token families in this process's memory: the default store, for a single
 * instance. Bounded by `maxFamilies`, without timers: expired families are removed
 * when touched or swept from the old end on insertion. Rotation is atomic because
 * it never awaits between reading and writing. Run several instances? Use
 * {@link RedisRefreshTokenStore}.
 *
 * @example
 * ```ts
 * const refreshTokens = createRefreshTokenManager({ store: new MemoryRefreshTokenStore({ maxFamilies: 10_000 }) });
 * ```
 */
export class MemoryRefreshTokenStore implements RefreshTokenStore {
  /** Insertion order is creation order: the first entry is the oldest family. */
  readonly #families = new Map<string, Family>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #maxFamilies: number;

  constructor(options: MemoryRefreshTokenStoreOptions = {}) {
    this.#maxFamilies = positiveInteger(
      'MemoryRefreshTokenStore',
      'maxFamilies',
      options.maxFamilies,
      100_000,
    );
  }

  /** How many families are held, expired ones not yet removed included. */
  get size(): number {
    return this.#families.size;
  }

  async create(family: NewRefreshTokenFamily): Promise<void> {
    this.#makeRoom(family.now);
    this.#families.set(family.familyId, {
      userId: family.userId,
      familyExpiresAt: family.familyExpiresAt,
      current: family.tokenHash,
      expiresAt: family.expiresAt,
      spent: new Set(),
    });
    let ids = this.#byUser.get(family.userId);
    if (ids === undefined) this.#byUser.set(family.userId, (ids = new Set()));
    ids.add(family.familyId);
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    const family = this.#families.get(request.familyId);
    if (family === undefined) return { status: 'invalid' };
    // Hashes of 256-bit secrets: comparing them leaks nothing worth timing.
    if (family.current !== request.tokenHash) {
      if (!family.spent.has(request.tokenHash)) return { status: 'invalid' };
      // RFC 9700 4.14.2: a replayed refresh token revokes the family, newest token included.
      this.#delete(request.familyId, family);
      return { status: 'reused', userId: family.userId };
    }
    if (request.now >= family.expiresAt || request.now >= family.familyExpiresAt) {
      this.#delete(request.familyId, family);
      return { status: 'expired', userId: family.userId };
    }
    family.spent.add(family.current);
    family.current = request.nextTokenHash;
    family.expiresAt = Math.min(request.now + request.tokenLifetimeMs, family.familyExpiresAt);
    return {
      status: 'rotated',
      userId: family.userId,
      expiresAt: family.expiresAt,
      familyExpiresAt: family.familyExpiresAt,
    };
  }

  async revoke(familyId: string, tokenHash: string): Promise<boolean> {
    const family = this.#families.get(familyId);
    if (family === undefined) return false;
    if (family.current !== tokenHash && !family.spent.has(tokenHash)) return false;
    this.#delete(familyId, family);
    return true;
  }

  async revokeUser(userId: string): Promise<number> {
    const ids = this.#byUser.get(userId);
    if (ids === undefined) return 0;
    for (const id of ids) this.#families.delete(id);
    this.#byUser.delete(userId);
    return ids.size;
  }

  #delete(familyId: string, family: Family): void {
    this.#families.delete(familyId);
    const ids = this.#byUser.get(family.userId);
    if (ids === undefined) return;
    ids.delete(familyId);
    if (ids.size === 0) this.#byUser.delete(family.userId);
  }

  #makeRoom(now: number): void {
    let swept = 0;
    for (const [id, family] of this.#families) {
      if (swept >= SWEEP) break;
      if (now < family.expiresAt && now < family.familyExpiresAt) break;
      this.#delete(id, family);
      swept++;
    }
    while (this.#families.size >= this.#maxFamilies) {
      const oldest = this.#families.entries().next().value;
      if (oldest === undefined) break;
      this.#delete(oldest[0], oldest[1]);
    }
  }
}
