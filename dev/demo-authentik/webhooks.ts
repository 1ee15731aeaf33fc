import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_ACTOR, DemoEvent, EventUser, eventFromChange } from './events';
import { BodyForm, defaultBody, mappingBody, testNotificationBody } from './webhook-bodies';
import { ChangeDescription } from './types';

export { pythonRepr } from './python-repr';
export type { BodyForm } from './webhook-bodies';

/**
 * Delivers directory changes the way authentik's generic webhook transport does:
 * asynchronous, unordered, at-least-once (non-2xx or network errors are retried up to
 * `maxRetries` times with exponential backoff), optionally authenticated by a header
 * mapping returning `{"<headerName>": "Bearer <secret>"}`.
 */
export interface WebhookOptions {
  url: string;
  /** Sent as `<headerName>: Bearer <secret>`; no header when absent. */
  secret?: string;
  /** Default `authorization`. */
  headerName?: string;
  bodyForm: BodyForm;
  /** Send every notification twice (authentik's deliveries are at-least-once). */
  duplicate?: boolean;
  /** Default 5, as authentik. */
  maxRetries?: number;
  /** First retry delay, doubled each time. Default 50 ms (authentik waits longer). */
  retryDelayMs?: number;
  /** Per attempt. Default 30 s, as authentik. */
  timeoutMs?: number;
  /** Name of the notification transport (in test notifications). Default `backstage`. */
  transportName?: string;
  /** Who made the changes (`event_user_*`). Default akadmin. */
  actor?: EventUser;
  /** Who the notification is for (`user_*`). Default the actor. */
  recipient?: EventUser;
}

export interface WebhookDeliveryStats {
  /** Deliveries acknowledged with a 2xx. */
  sent: number;
  /** Deliveries given up after all retries. */
  failed: number;
  /** Retries made (attempts after the first). */
  retried: number;
  /** Deliveries in flight. */
  pending: number;
}

export class WebhookDispatcher {
  readonly stats: WebhookDeliveryStats = { sent: 0, failed: 0, retried: 0, pending: 0 };
  private readonly inFlight = new Set<Promise<boolean>>();
  private readonly closing = new AbortController();

  constructor(private readonly options: WebhookOptions) {}

  /** Fire-and-forget: queue the notification(s) for one change. */
  notify(change: ChangeDescription): void {
    this.notifyEvent(eventFromChange(change, this.actor));
  }

  /** Fire-and-forget: queue the notification(s) for one recorded event (same pk as the log's). */
  notifyEvent(event: DemoEvent): void {
    const body = this.options.bodyForm === 'mapping' ? mappingBody(event) : defaultBody(event, this.recipient);
    const copies = this.options.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i += 1) void this.track(this.deliver(body));
  }

  /** The transport's "Test" notification; resolves to whether it was delivered. */
  sendTestNotification(): Promise<boolean> {
    const body = testNotificationBody(this.options.bodyForm, this.options.transportName ?? 'backstage', this.recipient);
    return this.track(this.deliver(body));
  }

  /** Resolves once every queued delivery has succeeded or given up. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Abandons pending deliveries (no more retries). */
  close(): void {
    this.closing.abort();
  }

  private get actor(): EventUser {
    return this.options.actor ?? DEFAULT_ACTOR;
  }

  private get recipient(): EventUser {
    return this.options.recipient ?? this.actor;
  }

  private track(delivery: Promise<boolean>): Promise<boolean> {
    this.inFlight.add(delivery);
    this.stats.pending += 1;
    void delivery.finally(() => {
      this.inFlight.delete(delivery);
      this.stats.pending -= 1;
    });
    return delivery;
  }

  private async deliver(body: unknown): Promise<boolean> {
    const maxRetries = this.options.maxRetries ?? 5;
    const baseDelay = this.options.retryDelayMs ?? 50;
    const payload = JSON.stringify(body);
    for (let attempt = 0; attempt <= maxRetries && !this.closing.signal.aborted; attempt += 1) {
      if (attempt > 0) {
        this.stats.retried += 1;
        const waited = await delay(baseDelay * 2 ** (attempt - 1), true, { signal: this.closing.signal }).catch(() => false);
        if (!waited) break;
      }
      if (await this.post(payload)) {
        this.stats.sent += 1;
        return true;
      }
    }
    this.stats.failed += 1;
    return false;
  }

  private async post(payload: string): Promise<boolean> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'goauthentik.io/demo' };
    if (this.options.secret !== undefined) headers[this.options.headerName ?? 'authorization'] = `Bearer ${this.options.secret}`;
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body: payload,
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.options.timeoutMs ?? 30_000)]),
      });
      await response.arrayBuffer();
      return response.ok;
    } catch {
      return false;
    }
  }
}

/** One-off test notification with the given options (no server needed). */
export async function sendTestNotification(options: WebhookOptions): Promise<boolean> {
  return new WebhookDispatcher(options).sendTestNotification();
}
