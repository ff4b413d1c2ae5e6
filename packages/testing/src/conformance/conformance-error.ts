import type { TestResponse } from '../requests/requester.js';

/** What a failure shows of the response: enough to see why, never the whole body. */
function describeResponse(response: TestResponse | undefined): string {
  if (response === undefined) return '';
  const shown = [
    'content-type',
    'www-authenticate',
    'access-control-allow-origin',
    'retry-after',
    'ratelimit',
    'x-request-id',
  ];
  const headers = shown
    .filter((name) => response.headers[name] !== undefined)
    .map((name) => `${name}: ${response.headers[name]}`);
  const text = response.text.length > 300 ? `${response.text.slice(0, 300)}...` : response.text;
  return `\n  got ${response.status}${headers.length > 0 ? `\n  ${headers.join('\n  ')}` : ''}\n  body: ${text}`;
}

/**
 * The app violated a conformance check. `check` names it (`token-forgery/alg-none`);
 * the message says what was expected and shows the response.
 */
export class ConformanceError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_CONFORMANCE';
  /** Stable code. */
  readonly code = ConformanceError.code;
  /** The failed check's id, filled in by the check runner. */
  check: string | undefined;
  /** The response that broke the rule, when there was one. */
  readonly response: TestResponse | undefined;
  constructor(message: string, response?: TestResponse) {
    super(`${message}${describeResponse(response)}`);
    this.name = 'ConformanceError';
    this.response = response;
  }
}

/** A check that cannot apply to this app (no public key to confuse, a transport that folds headers). */
export class ConformanceSkip extends Error {
  /** Stable code. */
  static readonly code = 'ERR_CONFORMANCE_SKIPPED';
  /** Stable code. */
  readonly code = ConformanceSkip.code;
  constructor(reason: string) {
    super(reason);
    this.name = 'ConformanceSkip';
  }
}
