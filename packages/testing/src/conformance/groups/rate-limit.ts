import type { TestResponse } from '../../requests/requester.js';
import { ensure, expectProblem } from '../assert.js';
import { ConformanceError } from '../conformance-error.js';
import type { ConformanceSession } from '../session.js';
import type { ConformanceCheck, ConformanceGroup } from '../types.js';

/** `r` of the IETF `RateLimit` header (draft-ietf-httpapi-ratelimit-headers-10), or a legacy remaining count. */
export function remainingOf(headers: Readonly<Record<string, string>>): number | undefined {
  const ietf = headers.ratelimit;
  if (ietf !== undefined) {
    const values = [...ietf.matchAll(/;\s*r=(\d+)/g)].map((match) => Number(match[1]));
    if (values.length > 0) return Math.min(...values);
  }
  const legacy = headers['ratelimit-remaining'] ?? headers['x-ratelimit-remaining'];
  return legacy === undefined ? undefined : Number(legacy);
}

/** Proxy headers naming a different client on each request: a limiter must ignore them unless told to trust a proxy. */
function spoofed(i: number): Record<string, string> {
  const octet = (i % 250) + 1;
  return {
    'x-forwarded-for': `198.51.100.${octet}`,
    forwarded: `for=203.0.113.${octet}`,
    'x-real-ip': `192.0.2.${octet}`,
  };
}

/** IETF RateLimit headers, 429 with `Retry-After`, and no escape through spoofed proxy headers. */
export function rateLimitGroup(
  session: ConformanceSession,
  path: string,
  limit: number,
): ConformanceGroup {
  const { api, options } = session;
  let limited: TestResponse | undefined;
  const exhaust = async (): Promise<TestResponse> => {
    let response: TestResponse | undefined;
    for (let i = 0; i <= limit; i++) {
      response = await api.get(path);
      if (response.status === 429) return response;
    }
    throw new ConformanceError(
      `no 429 after ${limit + 1} requests to ${path} (limit ${limit})`,
      response,
    );
  };

  const checks: ConformanceCheck[] = [
    {
      id: 'rate-limit/headers',
      title: 'an allowed response carries RateLimit headers within the limit',
      async run() {
        const response = await api.get(path);
        ensure(
          response.status !== 429,
          `the first request to ${path} is already limited`,
          response,
        );
        const remaining = remainingOf(response.headers);
        ensure(remaining !== undefined, 'no RateLimit (or RateLimit-Remaining) header', response);
        ensure(
          remaining < limit,
          `remaining ${remaining} is not below the limit ${limit}`,
          response,
        );
        const policy = response.headers['ratelimit-policy'];
        if (policy !== undefined)
          ensure(
            policy.includes(`q=${limit}`),
            `RateLimit-Policy does not say q=${limit}`,
            response,
          );
      },
    },
    {
      id: 'rate-limit/spoofed-forwarded-headers',
      title: 'X-Forwarded-For, Forwarded and X-Real-IP do not make a new client',
      async run() {
        let allowed = 0;
        let last: TestResponse | undefined;
        for (let i = 0; i <= limit; i++) {
          last = await api.get(path, { headers: spoofed(i) });
          if (last.status === 429) {
            limited = last;
            return;
          }
          allowed++;
        }
        ensure(
          false,
          `${allowed} requests with spoofed proxy headers were all allowed (limit ${limit}): the limiter trusts X-Forwarded-For`,
          last,
        );
      },
    },
    {
      id: 'rate-limit/too-many-requests',
      title: 'past the limit: 429 problem+json with Retry-After and RateLimit headers',
      async run() {
        const response = await exhaust();
        limited = response;
        expectProblem(response, '429');
        const retryAfter = response.headers['retry-after'];
        ensure(
          retryAfter !== undefined && /^\d+$/.test(retryAfter) && Number(retryAfter) > 0,
          'a 429 needs Retry-After in positive delta-seconds (RFC 9110 10.2.3)',
          response,
        );
        ensure(remainingOf(response.headers) === 0, 'a 429 must say 0 remaining', response);
      },
    },
  ];
  const clock = options.clock;
  if (clock !== undefined) {
    checks.push({
      id: 'rate-limit/retry-after-honest',
      title: 'after Retry-After seconds on the shared clock, the client may call again',
      async run() {
        const response = limited ?? (await exhaust());
        clock.advance(Number(response.headers['retry-after'] ?? 60) * 1000);
        const again = await api.get(path);
        ensure(again.status !== 429, 'still limited after Retry-After elapsed', again);
      },
    });
  }
  return { id: 'rate-limit', title: 'rate-limit headers and Retry-After', checks };
}
