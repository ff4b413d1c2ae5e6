import { type Dependency, defineDependency, type RequestOutcome } from '@org/core';
import { deferred } from '@org/test-support';

/** A dependency standing for an acquired resource, and the outcome its teardown receives. */
export function teardownProbe(name = 'connection'): {
  dependency: Dependency<string>;
  tornDown: Promise<RequestOutcome>;
} {
  const { promise, resolve } = deferred<RequestOutcome>();
  return {
    dependency: defineDependency({
      name,
      resolve: () => name,
      teardown: (_value, outcome) => resolve(outcome),
    }),
    tornDown: promise,
  };
}
