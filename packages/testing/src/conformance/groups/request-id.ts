import { randomUUID } from 'node:crypto';
import { ensure } from '../assert.js';
import type { ConformanceSession } from '../session.js';
import type { ConformanceGroup } from '../types.js';

/** What a generated or accepted id may look like: printable, no spaces or markup, bounded. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Request ids: a valid incoming id is echoed, an invalid one is replaced, a missing one generated. */
export function requestIdGroup(session: ConformanceSession, header: string): ConformanceGroup {
  const { api, options } = session;
  const path = options.routes.public ?? options.routes.jwks ?? options.routes.protected;
  const send = (id?: string) =>
    api.get(path, { headers: id === undefined ? {} : { [header]: id } });
  const invalid = [
    'bad id <script>alert(1)</script>',
    'x'.repeat(1024),
    'id\twith\ttabs',
    '../../etc/passwd;rm -rf',
  ];
  return {
    id: 'request-id',
    title: 'request id echo',
    checks: [
      {
        id: 'request-id/generated',
        title: `a request without ${header} gets a safe generated one, different each time`,
        async run() {
          const first = await send();
          const second = await send();
          const a = first.headers[header];
          ensure(a !== undefined && SAFE_ID.test(a), `no safe ${header} generated`, first);
          ensure(second.headers[header] !== a, `${header} is the same on two requests`, second);
        },
      },
      {
        id: 'request-id/valid-echoed',
        title: `a valid incoming ${header} is echoed unchanged`,
        async run() {
          const id = randomUUID();
          const response = await send(id);
          ensure(response.headers[header] === id, `a valid ${header} was not echoed`, response);
        },
      },
      {
        id: 'request-id/invalid-replaced',
        title: `an invalid incoming ${header} (markup, 1 KiB, control characters) is replaced`,
        async run() {
          for (const id of invalid) {
            const response = await send(id);
            const echoed = response.headers[header];
            ensure(echoed !== undefined, `no ${header} when the incoming one is invalid`, response);
            ensure(
              echoed !== id && SAFE_ID.test(echoed),
              `the invalid ${header} ${JSON.stringify(id.slice(0, 40))} was kept`,
              response,
            );
            ensure(!response.text.includes(id), 'the invalid id is echoed in the body', response);
          }
        },
      },
    ],
  };
}
