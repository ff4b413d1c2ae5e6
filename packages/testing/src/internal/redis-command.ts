import { connect } from 'node:net';

/** A RESP2 reply: status and bulk strings, integers, nil, arrays, and errors as values. */
export type RedisReply = string | number | null | RedisReplyError | RedisReply[];

/** An error reply (`-ERR ...`) of the server. */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

/**
 * Sends one command to the server on `port` over a fresh connection and resolves its
 * reply (an error reply rejects). The harness uses it to watch servers without
 * depending on a Redis client library.
 */
export function redisCommand(
  port: number,
  args: readonly (string | number)[],
  timeoutMs = 2000,
): Promise<RedisReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const finish = (error: Error | undefined, reply?: RedisReply) => {
      socket.destroy();
      if (error) reject(error);
      else if (reply instanceof RedisReplyError) reject(reply);
      else resolve(reply as RedisReply);
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new Error(`no reply from 127.0.0.1:${port} within ${timeoutMs} ms`)),
    );
    socket.once('error', (error) => finish(error));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let parsed: [RedisReply, number] | undefined;
      try {
        parsed = parse(received, 0);
      } catch (error) {
        finish(error as Error);
        return;
      }
      if (parsed !== undefined) finish(undefined, parsed[0]);
    });
    let request = `*${args.length}\r\n`;
    for (const arg of args) request += `$${Buffer.byteLength(String(arg))}\r\n${arg}\r\n`;
    socket.write(request);
  });
}

/** Parses one reply at `at`; undefined while it is incomplete. */
function parse(buffer: Buffer, at: number): [RedisReply, number] | undefined {
  const end = buffer.indexOf('\r\n', at);
  if (end < 0) return undefined;
  const line = buffer.toString('utf8', at + 1, end);
  const next = end + 2;
  switch (buffer[at]) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      return [new RedisReplyError(line), next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.toString('utf8', next, next + length), next + length + 2];
    }
    case 0x2a: {
      // *
      const length = Number(line);
      if (length < 0) return [null, next];
      const items: RedisReply[] = [];
      let position = next;
      for (let i = 0; i < length; i++) {
        const item = parse(buffer, position);
        if (item === undefined) return undefined;
        items.push(item[0]);
        position = item[1];
      }
      return [items, position];
    }
    default:
      throw new Error(`unexpected reply type ${JSON.stringify(line.slice(0, 20))}`);
  }
}

/** Fields of an `INFO` or `CLUSTER INFO` reply (`name:value` lines). */
export function infoFields(reply: RedisReply): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of String(reply).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/**
 * How many replicas a master's `INFO replication` lists as `state=online`: synced and
 * acknowledging, so a `WAIT` can count them.
 */
export function onlineReplicas(replication: Record<string, string>): number {
  let online = 0;
  for (const [name, value] of Object.entries(replication)) {
    if (/^slave\d+$/.test(name) && value.includes('state=online')) online++;
  }
  return online;
}

/** A flat `[name, value, name, value...]` array reply (`SENTINEL MASTER`) as a record. */
export function pairs(reply: RedisReply): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!Array.isArray(reply)) return fields;
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
  return fields;
}

/**
 * Calls `check` every `intervalMs` until it resolves a value other than undefined,
 * and throws `onTimeout()` (with the last error as its cause) when `timeoutMs` passed.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  onTimeout: (lastError: unknown) => Error,
  intervalMs = 50,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) throw onTimeout(lastError);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
