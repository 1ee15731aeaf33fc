import { DemoDirectory } from './directory';
import { DEFAULT_ACTOR, DemoEvent, EventUser, eventFromChange, pythonIsoformat } from './events';
import { comparatorFor, invalidChoice, listFilter, orderingFrom, OrderingTerm, SortValue, textFilter } from './query';

/**
 * authentik's event log (`GET /api/v3/events/events/`) for the demo: every directory change
 * made after the log was created is recorded as the audit middleware would record it, and
 * the same event is what webhooks deliver (so event pks match between the two).
 */

/** authentik's `EventActions` (the choices of the `action` / `actions` filters). */
const EVENT_ACTIONS = [
  'login', 'login_failed', 'logout', 'user_write', 'suspicious_request', 'password_set',
  'secret_view', 'secret_rotate', 'invitation_used', 'authorize_application',
  'source_linked', 'impersonation_started', 'impersonation_ended', 'flow_execution',
  'policy_execution', 'policy_exception', 'property_mapping_exception',
  'system_task_execution', 'system_task_exception', 'system_exception',
  'configuration_error', 'model_created', 'model_updated', 'model_deleted',
  'email_sent', 'update_available', 'custom_',
];

const ORDERING_FIELDS = ['created', 'action', 'app', 'user', 'context', 'client_ip', 'brand'];
const DEFAULT_ORDERING: OrderingTerm[] = [{ field: 'created', descending: true }];

/** Oldest events are dropped beyond this many (authentik expires them after 365 days). */
const RETAINED = 200_000;

export class DemoEventLog {
  /** Oldest first. */
  private events: DemoEvent[] = [];
  private readonly listeners = new Set<(event: DemoEvent) => void>();
  private readonly unsubscribe: () => void;

  constructor(directory: DemoDirectory, actor: EventUser = DEFAULT_ACTOR) {
    this.unsubscribe = directory.onChange(change => this.record(eventFromChange(change, actor)));
  }

  /** Subscribe to recorded events (webhook transports); returns the unsubscribe function. */
  onEvent(listener: (event: DemoEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.events.length;
  }

  /** Every recorded event, oldest first. */
  all(): readonly DemoEvent[] {
    return this.events;
  }

  /** Deletes every event (as `ak` shell `Event.objects.all().delete()` or retention would). */
  clear(): void {
    this.events = [];
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }

  /** The filtered, ordered list the API paginates. */
  list(params: URLSearchParams): DemoEvent[] {
    const action = textFilter(params, 'action');
    const actions = listFilter(params, 'actions');
    for (const value of [...(action === undefined ? [] : [action]), ...actions]) {
      if (!EVENT_ACTIONS.includes(value)) throw invalidChoice(action === value ? 'action' : 'actions', value);
    }
    const app = textFilter(params, 'context_model_app');
    const modelName = textFilter(params, 'context_model_name');
    const modelPk = textFilter(params, 'context_model_pk');
    const username = textFilter(params, 'username');
    const matching = this.events.filter(
      event =>
        (action === undefined || event.action === action) &&
        (actions.length === 0 || actions.includes(event.action)) &&
        (app === undefined || event.context.model.app === app) &&
        (modelName === undefined || event.context.model.model_name === modelName) &&
        (modelPk === undefined || String(event.context.model.pk) === modelPk) &&
        (username === undefined || event.user.username === username),
    );
    const terms = orderingFrom(params, ORDERING_FIELDS, DEFAULT_ORDERING);
    // Ties (same `created` millisecond) in recording order, following the first term's direction.
    const position = new Map(matching.map((event, index) => [event, index]));
    const direction = terms[0]?.descending ? -1 : 1;
    return matching.sort(comparatorFor(terms, valueOf, event => direction * (position.get(event) ?? 0)));
  }

  /** authentik's `EventSerializer`. */
  serialize(event: DemoEvent): Record<string, unknown> {
    return {
      pk: dashed(event.pk),
      user: { pk: event.user.pk, username: event.user.username, email: event.user.email },
      action: event.action,
      app: event.app,
      context: event.context,
      client_ip: '127.0.0.1',
      created: pythonIsoformat(event.created),
      expires: pythonIsoformat(new Date(event.created.getTime() + 365 * 86_400_000)),
      brand: { pk: 'fa1ce0de5a7e4b5c9d8e7f6a5b4c3d2e', app: 'authentik_brands', name: 'Default brand', model_name: 'brand' },
    };
  }

  private record(event: DemoEvent): void {
    this.events.push(event);
    if (this.events.length > RETAINED) this.events.splice(0, this.events.length - RETAINED);
    for (const listener of this.listeners) listener(event);
  }
}

function valueOf(event: DemoEvent, field: string): SortValue {
  switch (field) {
    case 'created':
      return event.created.getTime();
    case 'action':
      return event.action;
    case 'app':
      return event.app;
    case 'user':
      return event.user.username;
    default:
      return null;
  }
}

function dashed(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
