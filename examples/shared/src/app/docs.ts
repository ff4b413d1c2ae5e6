import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  createOpenApiDocument,
  defineRoute,
  type OpenApiDocument,
  type Reply,
  type Route,
  type Toolkit,
} from '@org/core';
import { tooManyRequests } from './route.ts';

/** The docs page loads only what this server sends: no CDN, no inline script, no fonts from afar. */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // The reference renders with inline styles and data: icons.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Users API reference</title>
  </head>
  <body>
    <div id="app"></div>
    <script src="/docs/scalar.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

/**
 * No inline script, so the CSP above needs no 'unsafe-inline' for scripts. Everything
 * that would talk to Scalar's cloud (AI agent, MCP, telemetry, fonts) is off.
 */
const INIT = `Scalar.createApiReference('#app', ${JSON.stringify({
  url: '/openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: 'never',
})});\n`;

/** The standalone bundle of `@scalar/api-reference`, read from node_modules on first use. */
function scalarBundle(): () => Buffer {
  let bundle: Buffer | undefined;
  return () => {
    if (bundle === undefined) {
      const entry = createRequire(import.meta.url).resolve('@scalar/api-reference');
      bundle = readFileSync(join(dirname(entry), 'browser', 'standalone.js'));
    }
    return bundle;
  };
}

/**
 * `GET /openapi.json`, generated on its first request from the routes mounted with
 * `toolkit`'s adapter (`toolkit.routes`) and their own zod schemas, and `GET /docs`, an
 * interactive reference served from the `@scalar/api-reference` package.
 */
export function docsRoutes(toolkit: Toolkit, framework: string): Route[] {
  let json: Buffer | undefined;
  const document = (): Buffer => {
    json ??= Buffer.from(JSON.stringify(openApiDocument(toolkit.routes, framework)));
    return json;
  };
  const bundle = scalarBundle();
  const asset = (body: string | Buffer, type: string): Reply => ({
    headers: { 'content-type': type, 'cache-control': 'public, max-age=3600' },
    body,
  });
  return [
    defineRoute({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'getOpenApiDocument',
      summary: 'This document (OpenAPI 3.1)',
      tags: ['operations'],
      responses: {
        200: { description: 'The OpenAPI document.', mediaType: 'application/json' },
        429: tooManyRequests,
      },
      handler: () => ({
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' },
        body: document(),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/docs',
      operationId: 'getDocs',
      summary: 'Interactive API reference',
      tags: ['operations'],
      responses: {
        200: { description: 'An HTML page.', mediaType: 'text/html' },
        429: tooManyRequests,
      },
      handler: () => ({
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': DOCS_CSP,
        },
        body: PAGE,
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/docs/init.js',
      hidden: true,
      handler: () => asset(INIT, 'text/javascript; charset=utf-8'),
    }),
    defineRoute({
      method: 'GET',
      path: '/docs/scalar.js',
      hidden: true,
      handler: () => asset(bundle(), 'text/javascript; charset=utf-8'),
    }),
  ];
}

/** The OpenAPI document of `routes`, those marked `hidden` left out. */
function openApiDocument(routes: readonly Route[], framework: string): OpenApiDocument {
  return createOpenApiDocument({
    info: {
      title: 'Users API',
      version: '1.0.0',
      description: `The @org toolkit example on ${framework}. Every error is an RFC 9457 problem.`,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'This server' }],
    tags: [
      { name: 'auth', description: 'Accounts and sessions.' },
      { name: 'users', description: 'Profiles and administration.' },
      { name: 'operations', description: 'Probes, metrics, keys and these docs.' },
    ],
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    routes,
  });
}
