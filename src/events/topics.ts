/**
 * Event topics of one authentik instance. The webhook topic is what authentik POSTs to
 * (`/api/events/http/<topic>`); the delta topic carries deltas computed from webhooks back
 * to the incremental engine, which is subscribed to both.
 */
export function webhookTopic(instanceId: string): string {
  return instanceId === 'default' ? 'authentik' : `authentik.${instanceId}`;
}

export function deltaTopic(instanceId: string): string {
  return `authentik.delta.${instanceId}`;
}
