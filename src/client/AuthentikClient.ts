import pRetry from 'p-retry';
import { z } from 'zod/v4';
import {
  AuthentikApiError,
  AuthentikPermissionError,
  AuthentikResponseError,
  AuthentikUnavailableError,
} from './errors';
import { parseRetryAfter } from './retryAfter';
import { sleep } from '../util/sleep';
import {
  AuthentikGroup,
  AuthentikPage,
  AuthentikUser,
  dashedGroupPk,
  groupPageSchema,
  groupSchema,
  toAuthentikUser,
  userPageWireSchema,
  userSchema,
} from './schemas';
import { AuthentikLogEvent, logEventPageSchema } from './eventSchemas';

export interface AuthentikClientOptions {
  /** Root URL of authentik, without trailing slash. */
  baseUrl: string;
  token: string;
  /** Attempts after the first one for transient failures. Default 4. */
  retries?: number;
  /** First backoff step; doubles each retry. Default 500 ms. */
  minRetryDelayMs?: number;
  /** Longest `Retry-After` honoured; a longer one ends the retries. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
  /** Called for every HTTP request made (for metrics and benchmarks). */
  onRequest?: (info: { path: string; status?: number; durationMs: number }) => void;
  fetch?: typeof fetch;
}

export interface ListPageRequest {
  page: number;
  pageSize: number;
  signal?: AbortSignal;
}

export interface ListUsersRequest extends ListPageRequest {
  /** Only active users (server-side filter). */
  activeOnly?: boolean;
  /** Only these user types (server-side filter). */
  types?: string[];
  /** Only members of this group (dashed or undashed UUID). */
  groupPk?: string;
}

/**
 * The part of the client the provider and the event handler depend on.
 *
 * `undefined` is authentik's own "not there", never a guess: for a list, its JSON
 * `{"detail": "Invalid page."}` (the page is past the end); for one object, its JSON
 * `{"detail": "No User matches the given query."}` (or `Group`). Any other 404 — an HTML
 * page from a proxy or ingress, another body, another content type — is transient: it is
 * retried and then thrown as an `AuthentikUnavailableError`, so nothing is removed on it.
 */
export interface AuthentikApi {
  listUsers(request: ListUsersRequest): Promise<AuthentikPage<AuthentikUser> | PastTheEnd>;
  listGroups(request: ListPageRequest): Promise<AuthentikPage<AuthentikGroup> | PastTheEnd>;
  getUser(pk: string, signal?: AbortSignal): Promise<AuthentikUser | Gone>;
  getGroup(pk: string, signal?: AbortSignal): Promise<AuthentikGroup | Gone>;
}

/** authentik answered `{"detail": "Invalid page."}`: the page lies past the end of the list. */
export type PastTheEnd = undefined;
/** authentik answered `{"detail": "No <Model> matches the given query."}`: no such object. */
export type Gone = undefined;

export interface ListEventsRequest extends ListPageRequest {
  /** `actions` filter (repeatable). */
  actions: string[];
  /** `context_model_app` filter. */
  modelApp: string;
}

/** Reading authentik's event log (needs `authentik_events.view_event`). */
export interface AuthentikEventLogApi {
  listEvents(request: ListEventsRequest): Promise<AuthentikPage<AuthentikLogEvent> | undefined>;
}

const detailSchema = z.object({ detail: z.string() }).partial();

class RetryableFailure extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Transport to authentik's REST API: bearer auth, validation of every response,
 * bounded retries of what is transient. It knows nothing about the catalog.
 */
export class AuthentikClient implements AuthentikApi, AuthentikEventLogApi {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: AuthentikClientOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  /**
   * One page of users ordered by pk, with the fields the mapping needs (group UUIDs are
   * always present; `groups_obj` and roles are not requested). `undefined` when the page
   * is past the end.
   */
  async listUsers(request: ListUsersRequest): Promise<AuthentikPage<AuthentikUser> | undefined> {
    const query = new URLSearchParams({
      ordering: 'pk',
      page: String(request.page),
      page_size: String(request.pageSize),
      include_groups: 'false',
      include_roles: 'false',
    });
    if (request.activeOnly) query.set('is_active', 'true');
    for (const type of request.types ?? []) query.append('type', type);
    if (request.groupPk) query.set('groups_by_pk', toDashedUuid(request.groupPk));
    const page = await this.get(`/core/users/?${query}`, userPageWireSchema, PAST_THE_END, request.signal);
    return page && { pagination: page.pagination, results: page.results.map(toAuthentikUser) };
  }

  /** One page of groups ordered by pk, without embedded members, roles or children. */
  async listGroups(request: ListPageRequest): Promise<AuthentikPage<AuthentikGroup> | undefined> {
    const query = new URLSearchParams({
      ordering: 'pk',
      page: String(request.page),
      page_size: String(request.pageSize),
      include_users: 'false',
      include_children: 'false',
      include_parents: 'false',
      include_roles: 'false',
    });
    return this.get(`/core/groups/?${query}`, groupPageSchema, PAST_THE_END, request.signal);
  }

  /** A user by pk, or `undefined` when authentik has no such user. */
  async getUser(pk: string, signal?: AbortSignal): Promise<AuthentikUser | undefined> {
    if (!/^\d+$/.test(pk)) {
      throw new AuthentikApiError(`"${pk}" is not a user pk`, 'GET /core/users/{pk}/');
    }
    return this.get(`/core/users/${pk}/?include_groups=false&include_roles=false`, userSchema, NO_SUCH_USER, signal);
  }

  /** A group by UUID (dashed or not), or `undefined` when authentik has no such group. */
  async getGroup(pk: string, signal?: AbortSignal): Promise<AuthentikGroup | undefined> {
    return this.get(
      `/core/groups/${toDashedUuid(pk)}/?include_users=false&include_children=false&include_roles=false`,
      groupSchema,
      NO_SUCH_GROUP,
      signal,
    );
  }

  /**
   * One page of the event log, newest first (`ordering=-created`). `undefined` when the
   * page is past the end.
   */
  async listEvents(request: ListEventsRequest): Promise<AuthentikPage<AuthentikLogEvent> | undefined> {
    const query = new URLSearchParams({
      ordering: '-created',
      page: String(request.page),
      page_size: String(request.pageSize),
      context_model_app: request.modelApp,
    });
    for (const action of request.actions) query.append('actions', action);
    return this.get(`/events/events/?${query}`, logEventPageSchema, PAST_THE_END, request.signal);
  }

  /**
   * GET and validate; `undefined` when authentik answers 404 with exactly `gone` (see
   * `AuthentikApi`). Other 404s never get here: `attempt` retries them as transient.
   */
  private async get<T extends z.ZodType>(
    path: string,
    schema: T,
    gone: string,
    signal?: AbortSignal,
  ): Promise<z.infer<T> | undefined> {
    const response = await this.request(path, gone, signal);
    if (response.status === 404) {
      return undefined;
    }
    return this.parse(path, response, schema);
  }

  private parse<T extends z.ZodType>(path: string, response: FetchedResponse, schema: T): z.infer<T> {
    const request = `GET /api/v3${path}`;
    if (response.status < 200 || response.status >= 300) {
      throw new AuthentikResponseError(request, response.status, describeDetail(response.body) || 'unexpected status');
    }
    let json: unknown;
    try {
      json = JSON.parse(response.body);
    } catch {
      throw new AuthentikResponseError(request, response.status, `body is not JSON (starts with ${JSON.stringify(response.body.slice(0, 40))})`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map(issue => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
        .join('; ');
      throw new AuthentikResponseError(request, response.status, issues);
    }
    return parsed.data;
  }

  /** GET with retries; resolves with any non-transient status for the caller to judge. */
  private async request(path: string, gone: string, signal?: AbortSignal): Promise<FetchedResponse> {
    const request = `GET /api/v3${path}`;
    const maxRetryAfterMs = this.options.maxRetryAfterMs ?? 60_000;
    try {
      return await pRetry(() => this.attempt(path, request, gone, signal), {
        retries: this.options.retries ?? 4,
        minTimeout: this.options.minRetryDelayMs ?? 500,
        factor: 2,
        signal,
        // Only what is transient; a Retry-After longer than we are willing to wait ends it.
        shouldRetry: error =>
          error instanceof RetryableFailure &&
          (error.retryAfterMs === undefined || error.retryAfterMs <= maxRetryAfterMs),
        // p-retry calls this after the last attempt too, and when shouldRetry said no:
        // only wait when another attempt will actually follow.
        onFailedAttempt: async error => {
          const retryAfterMs = error instanceof RetryableFailure ? error.retryAfterMs : undefined;
          if (retryAfterMs && retryAfterMs <= maxRetryAfterMs && error.retriesLeft > 0) {
            await sleep(retryAfterMs, signal);
          }
        },
      });
    } catch (error) {
      if (error instanceof RetryableFailure) {
        throw new AuthentikUnavailableError(request, error.status, error.message, error.retryAfterMs);
      }
      if (error instanceof AuthentikApiError || signal?.aborted) {
        throw error;
      }
      throw new AuthentikUnavailableError(request, undefined, (error as Error).message);
    }
  }

  private async attempt(path: string, request: string, gone: string, signal?: AbortSignal): Promise<FetchedResponse> {
    signal?.throwIfAborted();
    const started = performance.now();
    // One controller per request, released when it ends: timers and listeners on the
    // burst's long-lived signal must not pile up over a walk of thousands of requests.
    const controller = new AbortController();
    const timeoutMs = this.options.requestTimeoutMs ?? 30_000;
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let response: Response;
    let body: string;
    let contentType: string;
    try {
      response = await this.fetchImpl(`${this.options.baseUrl}/api/v3${path}`, {
        headers: { Authorization: `Bearer ${this.options.token}`, Accept: 'application/json' },
        signal: controller.signal,
      });
      body = await response.text();
      contentType = response.headers.get('content-type') ?? '';
    } catch (error) {
      this.options.onRequest?.({ path, durationMs: performance.now() - started });
      if (signal?.aborted) throw error;
      throw new RetryableFailure(undefined, `network error: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    this.options.onRequest?.({ path, status: response.status, durationMs: performance.now() - started });
    if (response.status === 401 || response.status === 403) {
      throw new AuthentikPermissionError(request, response.status, describeDetail(body));
    }
    if (response.status === 429 || response.status >= 500) {
      throw new RetryableFailure(
        response.status,
        `${response.status}${describeDetail(body) ? `: ${describeDetail(body)}` : ''}`,
        parseRetryAfter(response.headers.get('retry-after')),
      );
    }
    if (response.status === 404 && !isAuthentiksOwn404(contentType, body, gone)) {
      // A proxy or ingress in front of authentik (a rolling deploy, a wrong route): it says
      // nothing about what authentik holds. Transient; never read as "gone".
      throw new RetryableFailure(404, `404 that is not authentik's ${JSON.stringify({ detail: gone })} (${describeForeign(contentType, body)})`);
    }
    return { status: response.status, body };
  }
}

/** authentik's (DRF's) answers that mean "not there"; see `AuthentikApi`. */
const PAST_THE_END = 'Invalid page.';
const NO_SUCH_USER = 'No User matches the given query.';
const NO_SUCH_GROUP = 'No Group matches the given query.';

/**
 * Whether a 404 is authentik's own, precise answer: JSON with exactly the expected
 * `detail`. DRF before 3.15 answered a missing object with `"Not found."`, which is also
 * what any unknown route of a Django app answers; every supported authentik release
 * (2025.4+) ships a newer DRF, so that older text is not taken as "gone".
 */
function isAuthentiksOwn404(contentType: string, body: string, gone: string): boolean {
  if (!/^application\/json\b/i.test(contentType.trim())) return false;
  try {
    const parsed = detailSchema.safeParse(JSON.parse(body));
    return parsed.success && parsed.data.detail === gone;
  } catch {
    return false;
  }
}

/** What a foreign 404 was, for the error message: its content type and a short, quoted start. */
function describeForeign(contentType: string, body: string): string {
  return `${contentType || 'no content type'}, body starts ${JSON.stringify(body.slice(0, 40))}`;
}

interface FetchedResponse {
  status: number;
  body: string;
}

function describeDetail(body: string): string {
  try {
    const parsed = detailSchema.safeParse(JSON.parse(body));
    return parsed.success ? (parsed.data.detail ?? '') : '';
  } catch {
    return '';
  }
}

function toDashedUuid(pk: string): string {
  try {
    return dashedGroupPk(pk);
  } catch (error) {
    throw new AuthentikApiError((error as Error).message, 'GET /core/groups/{uuid}/');
  }
}
