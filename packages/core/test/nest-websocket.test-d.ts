import { createToolkit, defineDependency } from '@org/core';
import {
  type OrgGatewayOptions,
  OrgWsAdapter,
  type OrgWsAdapterOptions,
  webSocketValue,
} from '@org/core/nest';
import { describe, expectTypeOf, it } from 'vitest';

interface User {
  id: string;
  roles: readonly string[];
}

const currentUser = defineDependency({
  name: 'currentUser',
  resolve: async (): Promise<User> => ({ id: '1', roles: [] }),
});
const toolkit = createToolkit();

describe('NestJS gateway types', () => {
  it('types webSocketValue by the dependency', () => {
    const read = (client: object) => webSocketValue(client, currentUser);
    expectTypeOf(read).returns.toEqualTypeOf<User>();
  });

  it('requires the dependencies of every gateway, {} included', () => {
    expectTypeOf<OrgWsAdapterOptions>().toHaveProperty('dependencies');
    // @ts-expect-error: dependencies is required
    const missing: OrgWsAdapterOptions = { toolkit };
    expectTypeOf(missing).toExtend<OrgWsAdapterOptions>();
    expectTypeOf(OrgWsAdapter).constructorParameters.toEqualTypeOf<
      [app: object, options: OrgWsAdapterOptions]
    >();
  });

  it("checks a gateway's dependencies beside ws's own options", () => {
    const options: OrgGatewayOptions = {
      path: '/ws',
      maxPayload: 65_536,
      dependencies: { user: currentUser },
    };
    expectTypeOf(options.dependencies).toEqualTypeOf<OrgGatewayOptions['dependencies']>();
    // @ts-expect-error: dependencies are dependencies
    const wrong: OrgGatewayOptions = { dependencies: { user: 'nope' } };
    expectTypeOf(wrong).toExtend<OrgGatewayOptions>();
  });
});
