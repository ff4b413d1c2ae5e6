/**
 * How a prepared request reaches each app kind: fastify `inject`, hono
 * `app.request`, or real HTTP to a loopback server started on first use.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppKind, FetchApp, InjectableApp } from './app-kind.js';

/** A request ready to send. Header names are lower-case; repeats are arrays. */
export interface WireRequest {
  readonly method: string;
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: Buffer | undefined;
}

/** A response as it came back. */
export interface WireResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Record<string, string>;
  /** Each `Set-Cookie` separately. */
  readonly setCookie: readonly string[];
  readonly text: string;
}

/** Sends requests to one app. */
export interface Transport {
  send(request: WireRequest): Promise<WireResponse>;
  /** Closes what the transport started (a server it listened on); never the user's app. */
  close(): Promise<void>;
}

function flatten(
  headers: Readonly<Record<string, string | string[] | number | undefined>>,
): Pick<WireResponse, 'headers' | 'setCookie'> {
  const out: Record<string, string> = {};
  let setCookie: readonly string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    if (lower === 'set-cookie') setCookie = values;
    out[lower] = values.join(', ');
  }
  return { headers: out, setCookie };
}

function injectTransport(app: InjectableApp): Transport {
  return {
    async send(request) {
      const response = await app.inject({
        method: request.method,
        url: request.path,
        headers: request.headers as Record<string, string | string[]>,
        ...(request.body === undefined ? {} : { payload: request.body }),
      });
      return { status: response.statusCode, ...flatten(response.headers), text: response.body };
    },
    close: async () => {},
  };
}

async function fromFetchResponse(response: Response): Promise<WireResponse> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return {
    status: response.status,
    headers,
    setCookie: response.headers.getSetCookie(),
    text: await response.text(),
  };
}

function toFetchInit(request: WireRequest): RequestInit {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    for (const item of typeof value === 'string' ? [value] : value) headers.append(name, item);
  }
  return {
    method: request.method,
    headers,
    ...(request.body === undefined ? {} : { body: new Uint8Array(request.body) }),
  };
}

function fetchAppTransport(app: FetchApp): Transport {
  return {
    async send(request) {
      return fromFetchResponse(await app.request(request.path, toFetchInit(request)));
    },
    close: async () => {},
  };
}

/** Real HTTP through node:http, so repeated request headers stay separate lines. */
function sendHttp(baseUrl: string, request: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      new URL(request.path, `${baseUrl}/`),
      { method: request.method, headers: request.headers as IncomingHttpHeaders, agent: false },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            ...flatten(incoming.headers),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

function urlTransport(baseUrl: string): Transport {
  return { send: (request) => sendHttp(baseUrl, request), close: async () => {} };
}

/** Listens on 127.0.0.1:0 at the first request; closes only a server it started. */
function serverTransport(server: Server): Transport {
  const started = !server.listening;
  let listening: Promise<string> | undefined;
  const baseUrl = (): Promise<string> =>
    (listening ??= new Promise<void>((resolve, reject) => {
      if (server.listening) return resolve();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    }).then(() => `http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  return {
    send: async (request) => sendHttp(await baseUrl(), request),
    async close() {
      if (!started || listening === undefined) return;
      listening = undefined;
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** The transport for a detected app. */
export function transportFor(app: AppKind): Transport {
  switch (app.kind) {
    case 'url':
      return urlTransport(app.baseUrl);
    case 'inject':
      return injectTransport(app.app);
    case 'fetch':
      return fetchAppTransport(app.app);
    case 'server':
      return serverTransport(app.server);
    case 'listener':
      return serverTransport(createServer(app.listener));
  }
}
