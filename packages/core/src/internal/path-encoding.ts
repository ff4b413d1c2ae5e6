import { BadRequestError } from '../errors/http-error.js';

/**
 * 400 `ERR_BAD_PATH`: a request path that is not valid percent-encoding (RFC 3986
 * section 2.1: `%` and two hex digits) or not UTF-8 once decoded. Every adapter answers
 * a route's malformed path parameter with it, whichever router found it.
 */
export function badPathError(cause?: unknown): BadRequestError {
  return new BadRequestError({
    code: 'ERR_BAD_PATH',
    detail: 'The request path is not valid percent-encoding.',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Throws {@link badPathError} when `path`, still percent-encoded, does not decode. For
 * routers that hand a route the raw text of a parameter they could not decode (koa's,
 * hono's) instead of failing.
 */
export function checkPathEncoding(path: string): void {
  if (!path.includes('%')) return;
  try {
    decodeURIComponent(path);
  } catch (error) {
    throw badPathError(error);
  }
}
