import { createToolkit, defineDependency } from '@org/core';
import { describe, expectTypeOf, it } from 'vitest';
import { type OverrideHandle, overrideDependency, withOverrides } from './overrides.js';

interface User {
  id: string;
  roles: string[];
}
const currentUser = defineDependency<User>({
  name: 'currentUser',
  resolve: () => ({ id: 'u', roles: [] }),
});
const limit = defineDependency({ name: 'limit', resolve: () => 10 });
const toolkit = createToolkit();

describe('override types', () => {
  it('checks each replacement against its own dependency', () => {
    void withOverrides(
      toolkit,
      [
        [currentUser, () => ({ id: 'a', roles: ['admin'] })],
        [limit, () => 5],
      ],
      () => 'done',
    );
    void withOverrides(
      toolkit,
      // @ts-expect-error a number is not a User
      [[currentUser, () => 5]],
      () => 'done',
    );
    void withOverrides(
      toolkit,
      // @ts-expect-error a User is not a number
      [[limit, () => ({ id: 'a', roles: [] })]],
      () => 'done',
    );
  });

  it('returns what fn returns, and a disposable handle', () => {
    expectTypeOf(withOverrides(toolkit, [[limit, () => 1]], async () => 42)).toEqualTypeOf<
      Promise<number>
    >();
    expectTypeOf(overrideDependency(toolkit, limit, () => 3)).toEqualTypeOf<OverrideHandle>();
    // @ts-expect-error a string is not a number
    overrideDependency(toolkit, limit, () => 'x');
  });
});
