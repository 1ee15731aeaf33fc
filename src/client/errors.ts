/**
 * Errors of the authentik client. Messages name the request (method and path, never the
 * token) and say what to do about it.
 */

export class AuthentikApiError extends Error {
  constructor(
    message: string,
    readonly request: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'AuthentikApiError';
  }
}

/** 401/403: the token is invalid, expired, not an API token, or lacks permissions. */
export class AuthentikPermissionError extends AuthentikApiError {
  constructor(request: string, status: number, detail: string) {
    super(
      `authentik refused ${request} (${status}${detail ? `: ${detail}` : ''}). ` +
        'The token lacks authentik_core.view_user / authentik_core.view_group, or it is ' +
        'expired, revoked or not an API token. Fix: give the token\'s user a role (authentik ' +
        '2025.12+) or group holding both permissions, or create a new non-expiring token ' +
        'with intent "API Token", and set catalog.providers.authentik.token.',
      request,
      status,
    );
    this.name = 'AuthentikPermissionError';
  }
}

/** A response that is not what authentik's API documents (bad JSON, missing fields). */
export class AuthentikResponseError extends AuthentikApiError {
  constructor(request: string, status: number, problem: string) {
    super(`authentik returned an unexpected response to ${request} (${status}): ${problem}`, request, status);
    this.name = 'AuthentikResponseError';
  }
}

/** A transient failure that outlived its retries: network, 429 or 5xx. */
export class AuthentikUnavailableError extends AuthentikApiError {
  constructor(
    request: string,
    status: number | undefined,
    problem: string,
    readonly retryAfterMs?: number,
  ) {
    super(`authentik is unavailable for ${request}: ${problem}`, request, status);
    this.name = 'AuthentikUnavailableError';
  }
}

/** The class of an error, for logs and metrics. */
export type AuthentikErrorClass = 'permission' | 'response' | 'unavailable' | 'other';

export function classifyAuthentikError(error: unknown): AuthentikErrorClass {
  if (error instanceof AuthentikPermissionError) return 'permission';
  if (error instanceof AuthentikResponseError) return 'response';
  if (error instanceof AuthentikUnavailableError) return 'unavailable';
  return 'other';
}
