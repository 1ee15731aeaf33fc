import { DemoEvent, EventUser, pythonIsoformat } from './events';
import { pythonRepr } from './python-repr';

/** The JSON bodies authentik's generic webhook transport POSTs. */

export type BodyForm = 'mapping' | 'default';

export const SEVERITY = 'notice';

/** The project's recommended `webhook_mapping_body`. */
export interface MappingBody {
  version: 1;
  event_pk: string;
  action: string;
  created: string;
  model: { pk: number | string; app: string; name: string; model_name: string };
}

/** authentik's body when no body mapping is set. */
export interface DefaultBody {
  body: string;
  severity: string;
  user_email: string;
  user_username: string;
  event_user_email?: string;
  event_user_username?: string;
}

export interface MappingTestBody {
  version: 1;
  test: true;
  body: string;
}

export function mappingBody(event: DemoEvent): MappingBody {
  return {
    version: 1,
    event_pk: event.pk,
    action: event.action,
    created: pythonIsoformat(event.created),
    model: { ...event.context.model },
  };
}

/** `body` is `Event.summary`: `f"{action}: {context}"`, the context being a Python dict. */
export function defaultBody(event: DemoEvent, recipient: EventUser): DefaultBody {
  return {
    body: `${event.action}: ${pythonRepr(event.context)}`,
    severity: SEVERITY,
    user_email: recipient.email,
    user_username: recipient.username,
    event_user_email: event.user.email,
    event_user_username: event.user.username,
  };
}

/** The transport's "Test" button: a notification without an event. */
export function testNotificationBody(form: BodyForm, transportName: string, recipient: EventUser): DefaultBody | MappingTestBody {
  const body = `Test Notification from transport ${transportName}`;
  if (form === 'mapping') return { version: 1, test: true, body };
  return { body, severity: SEVERITY, user_email: recipient.email, user_username: recipient.username };
}
