import { describe, expect, it } from 'vitest';
import { createToolkit } from '../toolkit/toolkit.js';
import { type AnyDependency, defineDependency } from './dependency.js';

describe('dependency graphs', () => {
  it('rejects an injection that is not a dependency, naming it', () => {
    expect(() =>
      defineDependency({
        name: 'a',
        inject: { b: undefined as unknown as AnyDependency },
        resolve: () => 'a',
      }),
    ).toThrow('Dependency "a" injects "b", which is not a dependency');
  });

  it('detects a cycle introduced by an override', () => {
    const a = defineDependency({ name: 'a', resolve: () => 'a' });
    const b = defineDependency({ name: 'b', inject: { a }, resolve: () => 'b' });
    const toolkit = createToolkit();
    toolkit.overrides.set(a, defineDependency({ name: 'a2', inject: { b }, resolve: () => 'x' }));
    expect(() => toolkit.prepareRoute({ b })).toThrow(/b -> a -> b/);
  });

  it('rejects bad toolkit options at start-up, naming the option', () => {
    expect(() => createToolkit({ bodyLimit: -1 })).toThrow(/bodyLimit must be a positive integer/);
    expect(() => createToolkit({ maxJsonDepth: 1.5 })).toThrow(/maxJsonDepth/);
  });
});
