// The parameter decorators: what a handler receives from the toolkit.
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AnyDependency, Dependency } from '../../index.js';
import { enterRequest } from './request.js';
import { webSocketValue } from './websocket.js';

const dependencyParam = createParamDecorator(
  (dependency: AnyDependency, execution: ExecutionContext) =>
    execution.getType() === 'ws'
      ? webSocketValue(execution.switchToWs().getClient<object>(), dependency)
      : enterRequest(execution.switchToHttp().getRequest()).resolve(dependency),
);

const contextParam = createParamDecorator((_data: unknown, execution: ExecutionContext) =>
  enterRequest(execution.switchToHttp().getRequest()),
);

/**
 * The value of a dependency for this request: the one `@UseDependencies` resolved
 * before the handler, or resolved now (memoized either way, overrides applied). In a
 * gateway's `@SubscribeMessage` handler, the value for the connection (see
 * {@link webSocketValue}).
 *
 * @example
 * ```ts
 * @Get('me')
 * @UseDependencies({ user: auth.currentUser })
 * me(@Dep(auth.currentUser) user: User) { return user; }
 * ```
 */
export function Dep<T>(dependency: Dependency<T>): ParameterDecorator {
  return dependencyParam(dependency);
}

/**
 * The toolkit `Context` (`@org/core`) of this request: request id, client IP, the request view.
 *
 * @example
 * ```ts
 * @Get('whoami')
 * whoami(@Ctx() ctx: Context) { return { requestId: ctx.requestId }; }
 * ```
 */
export function Ctx(): ParameterDecorator {
  return contextParam();
}
