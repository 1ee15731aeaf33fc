import pRetry from 'p-retry';
import { z } from 'zod/v4';
import {
  AuthentikApiError,
  AuthentikPermissionError,
  AuthentikResponseError,
  AuthentikUnavailableError,
} from './errors';
import { fetchGet, HttpAnswer, HttpGet, nodeHttpGet } from './httpTransport';
import { compileJsonCheck } from './jsonCheck';
import { parseRetryAfter } from './retryAfter';
import { sleep } from '../util/sleep';
import {
  AuthentikGroup,
  AuthentikPage,
  AuthentikPagination,
  AuthentikUser,
  dashedGroupPk,
  groupPageSchema,
  groupSchema,
  paginationSchema,
  toAuthentikUser,
  userPageWireSchema,
  userSchema,
  userWireSchema,
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
  /** A `fetch` to send requests with instead of `node:http` (tests). */
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
  /**
   * Only users saved after this time (`last_updated__gt`, authentik 2025.8+). Older
   * versions ignore the filter and list everyone: callers check `last_updated` themselves.
   */
  lastUpdatedAfter?: Date | string;
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
  /**
   * `listUsers`, but the users are parsed and validated only when `read()` is called (the
   * pagination at once). A full walk holds a window of pages until every one has been
   * answered: as bytes outside the JavaScript heap they cost the garbage collector nothing.
   * Optional: the walk uses `listUsers` when an implementation has no such method.
   */
  listUsersLazily?(request: ListUsersRequest): Promise<LazyUserPage | PastTheEnd>;
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
  private readonly httpGet: HttpGet;

  constructor(private readonly options: AuthentikClientOptions) {
    this.httpGet = options.fetch ? fetchGet(options.fetch) : nodeHttpGet();
  }

  /**
   * One page of users ordered by pk, with the fields the mapping needs (group UUIDs are
   * always present; `groups_obj` and roles are not requested). `undefined` when the page
   * is past the end.
   */
  async listUsers(request: ListUsersRequest): Promise<AuthentikPage<AuthentikUser> | undefined> {
    const page = await this.get(usersListPath(request), userPageWireSchema, PAST_THE_END, request.signal, isUserPage);
    return page && { pagination: page.pagination, results: page.results.map(toAuthentikUser) };
  }

  /**
   * `listUsers` with the users left unparsed until `read()`: the body is kept as bytes and
   * only its pagination is parsed and validated now. `read()` validates the whole page
   * exactly as `listUsers` does (the same schema, the same errors).
   */
  async listUsersLazily(request: ListUsersRequest): Promise<LazyUserPage | undefined> {
    const path = usersListPath(request);
    const response = await this.request(path, PAST_THE_END, request.signal, true);
    if (response.status === 404) {
      return undefined;
    }
    const bytes = response.bytes;
    const head = bytes && response.status >= 200 && response.status < 300 ? peekPagination(bytes) : undefined;
    if (!bytes || head === undefined) {
      // Another status (fails as `listUsers` fails), or a body not shaped as authentik
      // shapes it (pagination first): parse it all now.
      const page = this.parse(path, { status: response.status, body: bytes && response.status >= 200 && response.status < 300 ? bytes.toString('utf8') : response.body }, userPageWireSchema, isUserPage);
      return new LazyUserPage(page.pagination, () => page.results.map(toAuthentikUser));
    }
    const { pagination } = this.validate(path, response.status, { pagination: head }, paginationOnlySchema);
    return new LazyUserPage(pagination, () => {
      const page = this.parse(path, { status: response.status, body: bytes.toString('utf8') }, userPageWireSchema, isUserPage);
      releaseBytes(bytes);
      if (!samePagination(page.pagination, pagination)) {
        throw new AuthentikResponseError(`GET /api/v3${path}`, response.status, 'the page contradicts its own pagination');
      }
      return page.results.map(toAuthentikUser);
    });
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
    accepts?: (json: unknown) => json is z.infer<T>,
  ): Promise<z.infer<T> | undefined> {
    const response = await this.request(path, gone, signal);
    if (response.status === 404) {
      return undefined;
    }
    return this.parse(path, response, schema, accepts);
  }

  /**
   * The body, validated by `schema`. `accepts`, when given, is the same validation as a
   * predicate (derived from the schema by `compileJsonCheck`): what it accepts is used as
   * parsed; what it refuses goes through `schema`, which says why.
   */
  private parse<T extends z.ZodType>(
    path: string,
    response: FetchedResponse,
    schema: T,
    accepts?: (json: unknown) => json is z.infer<T>,
  ): z.infer<T> {
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
    if (accepts?.(json)) return json;
    return this.validate(path, response.status, json, schema);
  }

  private validate<T extends z.ZodType>(path: string, status: number, json: unknown, schema: T): z.infer<T> {
    const request = `GET /api/v3${path}`;
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map(issue => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
        .join('; ');
      throw new AuthentikResponseError(request, status, issues);
    }
    return parsed.data;
  }

  /** GET with retries; resolves with any non-transient status for the caller to judge. */
  private async request(path: string, gone: string, signal?: AbortSignal, raw = false): Promise<FetchedResponse> {
    const request = `GET /api/v3${path}`;
    const maxRetryAfterMs = this.options.maxRetryAfterMs ?? 60_000;
    try {
      return await pRetry(() => this.attempt(path, request, gone, signal, raw), {
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

  /** One request; `raw`: a 2xx body is kept as bytes (`bytes`), not decoded (`body` is then ""). */
  private async attempt(
    path: string,
    request: string,
    gone: string,
    signal?: AbortSignal,
    raw = false,
  ): Promise<FetchedResponse> {
    signal?.throwIfAborted();
    const started = performance.now();
    // One controller per request, released when it ends: timers and listeners on the
    // burst's long-lived signal must not pile up over a walk of thousands of requests.
    const controller = new AbortController();
    const timeoutMs = this.options.requestTimeoutMs ?? 30_000;
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let response: HttpAnswer;
    try {
      response = await this.httpGet(
        `${this.options.baseUrl}/api/v3${path}`,
        { Authorization: `Bearer ${this.options.token}`, Accept: 'application/json' },
        controller.signal,
      );
    } catch (error) {
      this.options.onRequest?.({ path, durationMs: performance.now() - started });
      if (signal?.aborted) throw error;
      throw new RetryableFailure(undefined, `network error: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    const bytes = response.body;
    const body = raw && response.status >= 200 && response.status < 300 ? '' : bytes.toString('utf8');
    const contentType = response.header('content-type') ?? '';
    this.options.onRequest?.({ path, status: response.status, durationMs: performance.now() - started });
    if (response.status === 401 || response.status === 403) {
      throw new AuthentikPermissionError(request, response.status, describeDetail(body));
    }
    if (response.status === 429 || response.status >= 500) {
      throw new RetryableFailure(
        response.status,
        `${response.status}${describeDetail(body) ? `: ${describeDetail(body)}` : ''}`,
        parseRetryAfter(response.header('retry-after') ?? null),
      );
    }
    if (response.status === 404 && !isAuthentiksOwn404(contentType, body, gone)) {
      // A proxy or ingress in front of authentik (a rolling deploy, a wrong route): it says
      // nothing about what authentik holds. Transient; never read as "gone".
      throw new RetryableFailure(404, `404 that is not authentik's ${JSON.stringify({ detail: gone })} (${describeForeign(contentType, body)})`);
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.header('location');
      throw new AuthentikResponseError(
        request,
        response.status,
        `a redirect${location ? ` to ${location}` : ''}, not followed: set catalog.providers.authentik.baseUrl to the address authentik serves its API at`,
      );
    }
    return { status: response.status, body, bytes: raw ? bytes : undefined };
  }
}

/**
 * A page of users whose users are parsed and validated on `read()` (see
 * `AuthentikApi.listUsersLazily`). Read once: the bytes are let go as they are parsed.
 */
export class LazyUserPage {
  private reader?: () => AuthentikUser[];

  constructor(
    readonly pagination: AuthentikPagination,
    read: () => AuthentikUser[],
  ) {
    this.reader = read;
  }

  /** The page's users, validated; throws the validation error of a malformed page. */
  read(): AuthentikUser[] {
    const reader = this.reader;
    if (!reader) throw new Error('a page of users is read once');
    this.reader = undefined;
    return reader();
  }
}

/** The path of a page of users (see `listUsers`). */
function usersListPath(request: ListUsersRequest): string {
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
  if (request.lastUpdatedAfter !== undefined) query.set('last_updated__gt', isoTime(request.lastUpdatedAfter));
  return `/core/users/?${query}`;
}

const RESULTS_KEY = Buffer.from(',"results":');
const paginationOnlySchema = z.object({ pagination: paginationSchema });

const isUserWire = compileJsonCheck(userWireSchema);

/**
 * A page of users as `userPageWireSchema` accepts it: its pagination through zod (one small
 * object a page), its users through the predicate derived from `userWireSchema`. Users keep
 * the fields the schema does not name; `toAuthentikUser` copies only those it does.
 */
function isUserPage(json: unknown): json is z.infer<typeof userPageWireSchema> {
  if (!isUserWire || typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const { pagination, results } = json as Record<string, unknown>;
  if (!Array.isArray(results) || !paginationSchema.safeParse(pagination).success) return false;
  for (let i = 0; i < results.length; i++) {
    if (!isUserWire(results[i])) return false;
  }
  return true;
}

/**
 * The pagination of a page, from the part of the body before its results (authentik writes
 * `{"pagination": {…}, "results": […], …}`); `undefined` when the body does not start so.
 * Only numbers precede the results, so the first `,"results":` is the page's own key.
 */
function peekPagination(bytes: Buffer): unknown {
  const end = bytes.indexOf(RESULTS_KEY);
  if (end < 0) return undefined;
  try {
    const head: unknown = JSON.parse(`${bytes.toString('utf8', 0, end)}}`);
    return typeof head === 'object' && head !== null && 'pagination' in head ? head.pagination : undefined;
  } catch {
    return undefined;
  }
}

function samePagination(a: AuthentikPagination, b: AuthentikPagination): boolean {
  return (
    a.next === b.next &&
    a.previous === b.previous &&
    a.count === b.count &&
    a.current === b.current &&
    a.total_pages === b.total_pages &&
    a.start_index === b.start_index &&
    a.end_index === b.end_index
  );
}

/**
 * Frees the memory of bytes no longer needed now, not when the collector gets to their
 * (by then often old) Buffer: their ArrayBuffer is moved into a new one that dies at once.
 */
function releaseBytes(bytes: Buffer): void {
  const buffer = bytes.buffer;
  if (bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength || !(buffer instanceof ArrayBuffer)) return;
  try {
    structuredClone(buffer, { transfer: [buffer] });
  } catch {
    // Not transferable (already detached, or shared): the collector frees it as before.
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
  /** The body as bytes, in `raw` mode. */
  bytes?: Buffer;
}

function describeDetail(body: string): string {
  try {
    const parsed = detailSchema.safeParse(JSON.parse(body));
    return parsed.success ? (parsed.data.detail ?? '') : '';
  } catch {
    return '';
  }
}

/** An ISO-8601 UTC time for a date filter; refuses what is not a time (never an unfiltered list by accident). */
function isoTime(value: Date | string): string {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new AuthentikApiError(`"${String(value)}" is not a time`, 'GET /core/users/?last_updated__gt=');
  }
  return new Date(ms).toISOString();
}

function toDashedUuid(pk: string): string {
  try {
    return dashedGroupPk(pk);
  } catch (error) {
    throw new AuthentikApiError((error as Error).message, 'GET /core/groups/{uuid}/');
  }
}
