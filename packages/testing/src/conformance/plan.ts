import { TestingError } from '../errors/testing-error.js';
import { checkOptions } from './check-options.js';
import { ConformanceError, ConformanceSkip } from './conformance-error.js';
import { apiKeysGroup } from './groups/api-keys.js';
import { authChallengeGroup } from './groups/auth-challenge.js';
import { corsGroup } from './groups/cors.js';
import { problemJsonGroup } from './groups/problem-json.js';
import { rateLimitGroup } from './groups/rate-limit.js';
import { refreshGroup } from './groups/refresh.js';
import { requestIdGroup } from './groups/request-id.js';
import { DEFAULT_SECURITY_HEADERS, securityHeadersGroup } from './groups/security-headers.js';
import { tokenForgeryGroup } from './groups/token-forgery.js';
import { createSession } from './session.js';
import type {
  ConformanceCheck,
  ConformanceGroup,
  ConformanceGroupId,
  SecurityConformanceOptions,
} from './types.js';

/** The checks for one app, grouped, ready to run by hand or through vitest. */
export interface ConformancePlan {
  /** The groups that apply, in run order (rate limits last: they use up the budget). */
  readonly groups: readonly ConformanceGroup[];
  /** Groups left out, and why (a route or option not configured). */
  readonly skipped: readonly {
    /** The group left out. */
    readonly group: ConformanceGroupId;
    /** What it needs and did not get, such as `routes.admin is not configured`. */
    readonly reason: string;
  }[];
  /** The check with this id. @throws {@link TestingError} `ERR_CONFORMANCE_OPTIONS` when there is none. */
  check(id: string): ConformanceCheck;
  /** Closes the server the suite's requester opened. */
  close(): Promise<void>;
}

/** What {@link runConformance} found. */
export interface ConformanceReport {
  /** Ids of the checks that passed, in run order. */
  readonly passed: readonly string[];
  /** The checks that failed, in run order. */
  readonly failed: readonly {
    /** The check's id (`token-forgery/alg-none`). */
    readonly id: string;
    /** Why: a {@link ConformanceError} for a violation, any other error for a check that could not run. */
    readonly error: ConformanceError | Error;
  }[];
  /** The checks that could not apply to this app (they threw {@link ConformanceSkip}). */
  readonly skipped: readonly {
    /** The check's id. */
    readonly id: string;
    /** Why it cannot apply. */
    readonly reason: string;
  }[];
}

/** Runs a check, tagging a violation with the check's id. */
function tagged(check: ConformanceCheck): ConformanceCheck {
  return {
    ...check,
    async run() {
      try {
        await check.run();
      } catch (error) {
        if (error instanceof ConformanceError) error.check = check.id;
        throw error;
      }
    },
  };
}

/**
 * Builds the security conformance checks for an app, as plain async functions:
 * what `securityConformance` registers with vitest, usable without it (and to
 * prove that a misconfigured app fails them). Nothing is sent until a check runs.
 *
 * @throws {@link TestingError} `ERR_CONFORMANCE_OPTIONS` for options that cannot work, naming the option.
 *
 * @example
 * ```ts
 * const plan = createConformanceChecks({ app, routes: { protected: '/me' }, tokenFactory });
 * await expect(plan.check('token-forgery/alg-none').run()).rejects.toThrow(ConformanceError);
 * await plan.close();
 * ```
 */
export function createConformanceChecks(options: SecurityConformanceOptions): ConformancePlan {
  checkOptions(options);
  const log =
    options.log ?? ((message: string) => console.warn(`[security-conformance] ${message}`));
  const session = createSession(options);
  const { routes } = options;
  const groups: ConformanceGroup[] = [];
  const skipped: { group: ConformanceGroupId; reason: string }[] = [];
  const add = (
    id: ConformanceGroupId,
    build: (() => ConformanceGroup) | undefined,
    reason: string,
  ) => {
    if (build !== undefined) groups.push(build());
    else {
      skipped.push({ group: id, reason });
      log(`group "${id}" skipped: ${reason}`);
    }
  };

  add('token-forgery', () => tokenForgeryGroup(session, log), '');
  const admin = routes.admin;
  add(
    'auth-challenge',
    admin === undefined ? undefined : () => authChallengeGroup(session, admin),
    'routes.admin is not configured',
  );
  const refresh = routes.refresh;
  const canRefresh =
    refresh !== undefined && routes.login !== undefined && options.credentials?.user !== undefined;
  add(
    'refresh',
    canRefresh ? () => refreshGroup(session, refresh) : undefined,
    'routes.refresh, routes.login and credentials.user are all needed',
  );
  add('problem-json', () => problemJsonGroup(session), '');
  const headers = options.securityHeaders ?? DEFAULT_SECURITY_HEADERS;
  add(
    'security-headers',
    headers === false ? undefined : () => securityHeadersGroup(session, headers),
    'securityHeaders is false',
  );
  const origin = options.cors?.allowedOrigin;
  add(
    'cors',
    origin === undefined ? undefined : () => corsGroup(session, origin),
    'cors.allowedOrigin is not configured',
  );
  const idHeader =
    options.requestIdHeader === false
      ? undefined
      : (options.requestIdHeader ?? 'x-request-id').toLowerCase();
  add(
    'request-id',
    idHeader === undefined ? undefined : () => requestIdGroup(session, idHeader),
    'requestIdHeader is false',
  );
  const apiKeys = options.apiKeys;
  add(
    'api-keys',
    apiKeys === undefined ? undefined : () => apiKeysGroup(session, apiKeys),
    'apiKeys is not configured',
  );
  const limited = routes.rateLimited;
  const limit = options.rateLimit?.limit;
  add(
    'rate-limit',
    limited === undefined || limit === undefined
      ? undefined
      : () => rateLimitGroup(session, limited, limit),
    'routes.rateLimited and rateLimit.limit are both needed',
  );
  if (options.clock === undefined && limited !== undefined) {
    log('check "rate-limit/retry-after-honest" skipped: no clock to advance');
  }

  const all = groups.map((group) => ({ ...group, checks: group.checks.map(tagged) }));
  const byId = new Map(
    all.flatMap((group) => group.checks.map((check) => [check.id, check] as const)),
  );
  return {
    groups: all,
    skipped,
    check(id) {
      const found = byId.get(id);
      if (found === undefined)
        throw new TestingError(
          'ERR_CONFORMANCE_OPTIONS',
          `No conformance check "${id}"; known: ${[...byId.keys()].join(', ')}.`,
        );
      return found;
    },
    close: () => session.close(),
  };
}

/**
 * Runs every check in order, without vitest, and reports each outcome; closes the
 * requester's server at the end. For a CI step or a script against a deployed service.
 *
 * @throws A {@link TestingError} `ERR_CONFORMANCE_OPTIONS` when an option cannot work, naming it.
 *
 * @example
 * ```ts
 * const report = await runConformance({ baseUrl: 'https://staging.example.com', routes: { protected: '/api/v1/users/me' }, tokens });
 * for (const { id, error } of report.failed) console.error(`${id}: ${error.message}`);
 * process.exitCode = report.failed.length === 0 ? 0 : 1;
 * ```
 */
export async function runConformance(
  options: SecurityConformanceOptions,
): Promise<ConformanceReport> {
  const plan = createConformanceChecks(options);
  const passed: string[] = [];
  const failed: { id: string; error: Error }[] = [];
  const skipped: { id: string; reason: string }[] = [];
  try {
    for (const check of plan.groups.flatMap((group) => group.checks)) {
      try {
        await check.run();
        passed.push(check.id);
      } catch (error) {
        if (error instanceof ConformanceSkip) skipped.push({ id: check.id, reason: error.message });
        else
          failed.push({
            id: check.id,
            error: error instanceof Error ? error : new Error(String(error)),
          });
      }
    }
  } finally {
    await plan.close();
  }
  return { passed, failed, skipped };
}
