import { AsyncResource } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { pinTickShape } from './tick-shape.js';

describe('pinTickShape', () => {
  it('finds the async id symbols it pins on this Node version', () => {
    // A canary: if Node renames these, the workaround in tick-shape.ts quietly stops
    // working; re-check `nextTick` in a profile (see the comment there) and update it.
    const names = Object.getOwnPropertySymbols(new AsyncResource('probe')).map(
      (symbol) => symbol.description,
    );
    expect(names).toEqual(expect.arrayContaining(['async_id_symbol', 'trigger_async_id_symbol']));
  });

  it('leaves process.nextTick working, however often it runs', async () => {
    pinTickShape();
    pinTickShape();
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      process.nextTick((a: string, b: string) => order.push(a, b), 'one', 'two');
      process.nextTick(() => resolve());
    });
    expect(order).toEqual(['one', 'two']);
  });
});
