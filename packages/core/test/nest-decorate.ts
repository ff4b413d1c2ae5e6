// The Nest tests apply decorators as plain calls, as the examples do.
import type { Type } from '@nestjs/common';

/** Applies decorators the way TypeScript's `experimentalDecorators` does (Node runs these sources). */
export function decorate(
  type: Type,
  method: string,
  decorators: readonly MethodDecorator[],
  params: readonly ParameterDecorator[] = [],
): void {
  const target: object = type.prototype;
  const descriptor = Object.getOwnPropertyDescriptor(target, method) as PropertyDescriptor;
  params.forEach((decorator, index) => {
    decorator(target, method, index);
  });
  for (const decorator of [...decorators].reverse()) decorator(target, method, descriptor);
}
