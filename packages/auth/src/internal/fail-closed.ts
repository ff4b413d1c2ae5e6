import { isHttpError, ServiceUnavailableError } from '@org/core';

/**
 * Wraps store calls so a store failure fails closed: whatever the store threw becomes a
 * 503 with `code` and `detail` that shows nothing of it (the error stays as `cause`);
 * the toolkit's own HTTP errors pass through.
 */
export function failClosed(code: string, detail: string) {
  return async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      if (isHttpError(error)) throw error;
      throw new ServiceUnavailableError({ code, detail, cause: error });
    }
  };
}
