// node:http doing the full stack's work written by hand for this one route, with no
// abstraction: a Map of verified tokens, a Map counter for the rate limit, the same
// twelve response headers in one writeHead object, randomUUID, the same JSON access line
// into a buffer flushed once per event-loop turn, a bucket array for the histogram.
// Not a stack anyone should ship: it is what the work itself costs on this machine, the
// floor under `ours` (`pnpm --dir bench bench:inproc node bare floor ours`).
import { createHmac, createPublicKey, randomUUID, timingSafeEqual, verify } from 'node:crypto';
import { openSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import {
  AUDIENCE,
  HUGE_LIMIT,
  ISSUER,
  ROLE,
  ready,
  type ServerSetup,
  userBody,
  WINDOW_MS,
} from './setup.ts';

interface Claims {
  sub: string;
  roles?: string[];
  exp: number;
  iss: string;
  aud: string | string[];
}

function verifier(setup: ServerSetup): (token: string) => Claims | undefined {
  const { key } = setup;
  const checkSignature =
    key.alg === 'HS256'
      ? (data: string, signature: Buffer) =>
          timingSafeEqual(
            createHmac('sha256', key.secret as string)
              .update(data)
              .digest(),
            signature,
          )
      : (data: string, signature: Buffer) =>
          verify(
            'sha256',
            Buffer.from(data),
            { key: createPublicKey(key.publicPem as string), dsaEncoding: 'ieee-p1363' },
            signature,
          );
  const verified = new Map<string, Claims>();
  return (token) => {
    const known = verified.get(token);
    if (known !== undefined && known.exp * 1000 > Date.now()) return known;
    const [header, payload, signature] = token.split('.');
    if (header === undefined || payload === undefined || signature === undefined) return undefined;
    const signatureBytes = Buffer.from(signature, 'base64url');
    if (!checkSignature(`${header}.${payload}`, signatureBytes)) return undefined;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Claims;
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== ISSUER || !audiences.includes(AUDIENCE)) return undefined;
    if (claims.exp * 1000 <= Date.now()) return undefined;
    verified.set(token, claims);
    return claims;
  };
}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function floor(setup: ServerSetup, port: number): void {
  const check = verifier(setup);
  const counters = new Map<string, { count: number; reset: number }>();
  const histogram = new Map<string, { counts: Float64Array; sum: number }>();
  const fd = openSync(setup.logFile, 'a');
  const buffer = Buffer.allocUnsafeSlow(65_536);
  let length = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    writeSync(fd, buffer, 0, length);
    length = 0;
  };
  process.on('exit', flush);
  createServer((req, res) => {
    const start = performance.now();
    const id = randomUUID();
    const authorization = req.headers.authorization;
    const claims = authorization?.startsWith('Bearer ') ? check(authorization.slice(7)) : undefined;
    if (claims === undefined || !claims.roles?.includes(ROLE)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="api"', 'content-length': 0 });
      res.end();
      return;
    }
    const ip = req.socket.remoteAddress ?? 'unknown';
    const now = Date.now();
    let counter = counters.get(ip);
    if (counter === undefined || counter.reset <= now) {
      counter = { count: 0, reset: now + WINDOW_MS };
      counters.set(ip, counter);
    }
    counter.count++;
    const body = JSON.stringify(userBody(claims.sub, claims.roles));
    res.writeHead(200, {
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-request-id': id,
      'ratelimit-policy': `"default";q=${HUGE_LIMIT};w=${WINDOW_MS / 1000}`,
      ratelimit: `"default";r=${HUGE_LIMIT - counter.count};t=${Math.ceil((counter.reset - now) / 1000)}`,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    res.on('close', () => {
      const ms = performance.now() - start;
      const line = `{"level":30,"time":${Date.now()},"pid":${process.pid},"hostname":"bench","request_id":"${id}","method":"${req.method}","route":"/users/me","status":200,"duration_ms":${ms.toFixed(3)},"bytes":${body.length},"client_ip":"${ip}","aborted":false,"user_id":"${claims.sub}","msg":"request completed"}\n`;
      if (length + line.length * 3 > buffer.length) flush();
      length += buffer.write(line, length);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      const series = `GET /users/me ${res.statusCode}`;
      let bucket = histogram.get(series);
      if (bucket === undefined) {
        bucket = { counts: new Float64Array(BUCKETS.length + 1), sum: 0 };
        histogram.set(series, bucket);
      }
      const seconds = ms / 1000;
      let i = 0;
      while (i < BUCKETS.length && seconds > (BUCKETS[i] as number)) i++;
      (bucket.counts[i] as number)++;
      bucket.sum += seconds;
    });
  }).listen(port, '127.0.0.1', ready);
}
