// What the FastAPI guide's app snippets take as given: the users database (in memory,
// ./fastapi-users.ts), the password hasher, the access-token signer, and `app`, the
// node:http app they add their routes to, listening on PORT.
import { createServer } from 'node:http';
import { createAccessTokenSigner, createKeySet, generateSigningKey } from '@org/auth';
import { createToolkit } from '@org/core';
import { createNodeAdapter } from '@org/core/node';
import { createUser, hasher, pool, UserRepository } from '../preludes/fastapi-users.ts';

const keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
const signer = createAccessTokenSigner({
  keySet,
  issuer: 'https://api.example.com',
  audience: 'api',
});
const app = createNodeAdapter(createToolkit());
// What the db dependency's teardown did, for consumer/docs/run.mjs.
app.get('/pool-stats', {}, () => ({ body: pool.stats }));
// The snippets add their routes without awaiting anything: they are all in place before
// the server handles its first request.
createServer(app.handler).listen(Number(process.env.PORT ?? 3000));

export { app, createUser, hasher, pool, signer, UserRepository };
