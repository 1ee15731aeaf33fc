import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { AuthentikApi } from './api-routes';
import { DemoMutations } from './demo-routes';
import { DemoDirectory } from './directory';
import { DemoEventLog } from './event-log';
import { HttpError, readJsonBody, sendEmpty, sendJson, sendJsonText } from './http';
import { ApiShape, Serializers } from './serializers';
import { WebhookDeliveryStats, WebhookDispatcher, WebhookOptions } from './webhooks';

export interface DemoAuthentikOptions {
  directory: DemoDirectory;
  /** The API token (`Authorization: Bearer <token>`). */
  token: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Added to every API request. Default 0. */
  latencyMs?: number;
  /** Larger `page_size` values are silently capped (2025.12+). Default 100; `Infinity` for ≤ 2025.10. */
  maxPageSize?: number;
  /** Page size when none (or an invalid one) is asked for. Default 20 (2025.12+); 100 for ≤ 2025.10. */
  defaultPageSize?: number;
  /** `parents` (2025.12+, default) or `parent` (≤ 2025.10). */
  apiShape?: ApiShape;
  /**
   * Users carry `last_updated` and `last_updated__gt` filters them (2025.8+, default true).
   * `false`: an older authentik, which sends no `last_updated` and, like DRF with any
   * unknown parameter, ignores the filter (the whole list comes back).
   */
  lastUpdated?: boolean;
  /** POST every change to a webhook receiver, as a notification rule + generic webhook transport. */
  webhook?: WebhookOptions;
}

export interface DemoAuthentik {
  /** Root URL, no trailing slash (the API is under `${url}/api/v3/`). */
  readonly url: string;
  readonly directory: DemoDirectory;
  /** `/api/v3` requests received (including refused and failed ones). */
  readonly requests: number;
  /** Of those, requests for users and groups (`/api/v3/core/…`): not the event log's. */
  readonly directoryRequests: number;
  resetRequestCount(): void;
  /** Forget every user's serialized JSON (see `AuthentikApi.userJson`): the next walk meets a cold server. */
  forgetSerializedUsers(): void;
  /** Make the next `count` API requests answer `status` (429 comes with `Retry-After: 0`). */
  failNext(count: number, status: number, body?: unknown): void;
  /** authentik's event log: every change made after the server started. */
  readonly eventLog: DemoEventLog;
  /** Make `GET /events/events/` answer 403 (the token lacks `authentik_events.view_event`). */
  setEventLogForbidden(forbidden: boolean): void;
  readonly webhookDeliveries: WebhookDeliveryStats;
  /** Resolves when every queued webhook delivery has succeeded or given up. */
  whenWebhooksIdle(): Promise<void>;
  /** The transport's test notification (false without `webhook` or when undelivered). */
  sendTestNotification(): Promise<boolean>;
  stop(): Promise<void>;
}

const API_PREFIX = '/api/v3';
const DEMO_PREFIX = '/demo';

interface InjectedFailure {
  remaining: number;
  status: number;
  body: unknown;
}

export async function startDemoAuthentik(options: DemoAuthentikOptions): Promise<DemoAuthentik> {
  const { directory } = options;
  const shape = options.apiShape ?? 'parents';
  const lastUpdated = options.lastUpdated ?? true;
  const eventLog = new DemoEventLog(directory);
  const api = new AuthentikApi(
    directory,
    shape,
    { defaultPageSize: options.defaultPageSize ?? 20, maxPageSize: options.maxPageSize ?? 100 },
    eventLog,
    lastUpdated,
  );
  const mutations = new DemoMutations(directory, new Serializers(directory, shape, lastUpdated));
  const dispatcher = options.webhook ? new WebhookDispatcher(options.webhook) : undefined;
  const unsubscribe = dispatcher ? eventLog.onEvent(event => dispatcher.notifyEvent(event)) : () => undefined;
  let requests = 0;
  let directoryRequests = 0;
  let failure: InjectedFailure | undefined;

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    requests += 1;
    if (url.pathname.startsWith(`${API_PREFIX}/core/`)) directoryRequests += 1;
    if (options.latencyMs) await delay(options.latencyMs);
    if (failure && failure.remaining > 0) {
      failure.remaining -= 1;
      const headers: Record<string, string> = failure.status === 429 ? { 'Retry-After': '0' } : {};
      return sendJson(res, failure.status, failure.body, headers);
    }
    authenticate(req, options.token);
    const path = url.pathname.slice(API_PREFIX.length);
    if (!api.knows(path)) {
      // Django's APPEND_SLASH.
      if (req.method === 'GET' && api.knows(`${path}/`)) {
        return sendEmpty(res, 301, { Location: `${url.pathname}/${url.search}` });
      }
      throw HttpError.detail(404, 'Not found.');
    }
    if (req.method !== 'GET') throw HttpError.detail(405, `Method "${req.method}" not allowed.`);
    const response = api.get(path, url.searchParams);
    if (response.json !== undefined) sendJsonText(res, response.status, response.json);
    else sendJson(res, response.status, response.body);
  }

  async function handleDemo(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    authenticate(req, options.token);
    const body = await readJsonBody(req);
    const response = mutations.handle(req.method ?? 'GET', url.pathname.slice(DEMO_PREFIX.length), body);
    if (response.body === undefined) sendEmpty(res, response.status);
    else sendJson(res, response.status, response.body);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo-authentik');
    const handler = isUnder(url.pathname, API_PREFIX) ? handleApi : isUnder(url.pathname, DEMO_PREFIX) ? handleDemo : undefined;
    const handled = handler ? handler(req, res, url) : Promise.reject(HttpError.detail(404, 'Not found.'));
    handled.catch((error: unknown) => respondWithError(res, error));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    directory,
    get requests() {
      return requests;
    },
    get directoryRequests() {
      return directoryRequests;
    },
    resetRequestCount() {
      requests = 0;
      directoryRequests = 0;
    },
    forgetSerializedUsers() {
      api.forgetSerializedUsers();
    },
    failNext(count, status, body) {
      failure = { remaining: count, status, body: body ?? { detail: defaultFailureDetail(status) } };
    },
    eventLog,
    setEventLogForbidden(forbidden) {
      api.eventLogForbidden = forbidden;
    },
    get webhookDeliveries() {
      return dispatcher?.stats ?? { sent: 0, failed: 0, retried: 0, pending: 0 };
    },
    whenWebhooksIdle: () => dispatcher?.idle() ?? Promise.resolve(),
    sendTestNotification: () => dispatcher?.sendTestNotification() ?? Promise.resolve(false),
    async stop() {
      unsubscribe();
      eventLog.close();
      dispatcher?.close();
      await new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function isUnder(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

/** authentik answers authentication failures with 403, not 401. */
function authenticate(req: IncomingMessage, token: string): void {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!match) throw HttpError.detail(403, 'Authentication credentials were not provided.');
  if (match[1].trim() !== token) throw HttpError.detail(403, 'Token invalid/expired');
}

function defaultFailureDetail(status: number): string {
  if (status === 429) return 'Request was throttled. Expected available in 0 seconds.';
  if (status >= 500) return 'A server error occurred.';
  return 'Injected failure.';
}

function respondWithError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof HttpError) {
    sendJson(res, error.status, error.body, error.headers);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  sendJson(res, 500, { detail: `A server error occurred: ${message}` });
}
