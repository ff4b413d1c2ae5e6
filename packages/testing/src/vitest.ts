/**
 * The vitest registration of the security conformance suite. A separate entry so
 * the rest of `@org/testing` loads without vitest installed.
 *
 * @example
 * ```ts
 * import { securityConformance } from '@org/testing/vitest';
 * securityConformance({ app, routes: { protected: '/api/v1/users/me' }, credentials });
 * ```
 *
 * @module
 */
export { securityConformance } from './conformance/security-conformance.js';
