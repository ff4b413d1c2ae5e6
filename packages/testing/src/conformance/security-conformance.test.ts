import { adapters } from '@org/test-support';
import { afterAll } from 'vitest';
import { createToolkitApp } from '../../test/support/toolkit-app.js';
import { securityConformance } from './security-conformance.js';

// The suite as an app's own test file would use it: one registration per adapter,
// every group configured, against the toolkit's real packages.
for (const adapter of adapters) {
  const app = await createToolkitApp(adapter.name);
  afterAll(() => app.close());
  securityConformance(app.conformance);
}
