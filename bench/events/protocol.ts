/**
 * Messages the bench backend (`bench/events/backend.ts`, a child process) sends to
 * `bench/events.bench.ts` over the IPC channel. They come from a passive probe subscribed
 * to the module's topics and are only used for the latency BREAKDOWN; every headline
 * number is measured from the outside, through HTTP.
 */

/** The events HTTP ingress published an authentik webhook on the `authentik` topic. */
export interface ProbeWebhookMessage {
  type: 'webhook';
  /** Date.now() in the backend process. */
  at: number;
  /** `model.pk` of the body (mapping form) or undefined (default form: not parsed here). */
  pk?: string;
}

/** The module published a planned delta on `authentik.delta.default`. */
export interface ProbeDeltaMessage {
  type: 'delta';
  at: number;
  added: number;
  removed: number;
  /** Receipt time of the oldest webhook of the batch (the coalescer's clock). */
  firstReceivedAt?: number;
  /** Entity refs touched (upserted or removed), for correlation; capped. */
  refs: string[];
}

export type ProbeMessage = ProbeWebhookMessage | ProbeDeltaMessage;
