import type { PasswordHasher, RefreshTokenManager } from '@org/auth';
import { ConflictError, NotFoundError } from '@org/core';
import type { RegisterInput, UserDto } from './schemas.ts';
import { DuplicateEmailError, type UserRecord, type UserStore } from './user-repository.ts';

/** The public view of a user: never the password hash. */
export function toUserDto(user: UserRecord): UserDto {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    roles: [...user.roles],
    is_active: user.isActive,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
  };
}

const emailTaken = () =>
  new ConflictError({
    code: 'ERR_EMAIL_TAKEN',
    detail: 'An account with this email already exists.',
  });

/** What {@link UserService} works with. */
export interface UserServiceOptions {
  readonly users: UserStore;
  readonly hasher: PasswordHasher;
  readonly refreshTokens: RefreshTokenManager;
}

/** Registration, profile and administration of users. Framework-neutral: plain values in, DTOs out. */
export class UserService {
  readonly #users: UserStore;
  readonly #hasher: PasswordHasher;
  readonly #refreshTokens: RefreshTokenManager;

  constructor(options: UserServiceOptions) {
    this.#users = options.users;
    this.#hasher = options.hasher;
    this.#refreshTokens = options.refreshTokens;
  }

  /** Creates a user with the `user` role. @throws 409 when the email is taken. */
  async register(input: RegisterInput): Promise<UserDto> {
    return toUserDto(await this.create(input, ['user']));
  }

  /** Creates a user with the given roles (seeding). @throws 409 when the email is taken. */
  async create(
    input: { email: string; password: string; name?: string | undefined },
    roles: readonly string[],
  ): Promise<UserRecord> {
    // The 409 reveals the account exists anyway; checking first saves a hash. The UNIQUE
    // constraint still decides a race between two registrations.
    if ((await this.#users.findByEmail(input.email)) !== undefined) throw emailTaken();
    const passwordHash = await this.#hasher.hash(input.password);
    try {
      return await this.#users.insert({
        email: input.email,
        name: input.name ?? null,
        passwordHash,
        roles,
      });
    } catch (error) {
      if (error instanceof DuplicateEmailError) throw emailTaken();
      throw error;
    }
  }

  /** Changes the caller's name; only the name, whatever else the request held. */
  async update(user: UserRecord, changes: { name: string }): Promise<UserDto> {
    const updated = await this.#users.updateName(user.id, changes.name);
    if (updated === undefined) throw new NotFoundError({ detail: 'This user no longer exists.' });
    return toUserDto(updated);
  }

  /** One page of users, oldest first. */
  async list(page: { limit: number; offset: number }) {
    const { items, total } = await this.#users.list(page.limit, page.offset);
    return { items: items.map(toUserDto), total, limit: page.limit, offset: page.offset };
  }

  /**
   * Deletes a user and ends every session of theirs; a failure to end them goes to
   * `reportError` (the route passes the toolkit's). @throws 404 for an unknown id.
   */
  async delete(id: string, reportError: (error: unknown) => void): Promise<void> {
    if (!(await this.#users.delete(id)))
      throw new NotFoundError({ detail: 'No user has this id.' });
    // Their access tokens die with the row (loadUser finds nobody) and refresh refuses
    // tokens of a missing user, so revoking is hygiene: a store outage must not fail the delete.
    await this.#refreshTokens.revokeAllForUser(id).catch(reportError);
  }
}
