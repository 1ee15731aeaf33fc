import { randomUUID } from 'node:crypto';
import { ChangeAction, ChangeDescription } from './types';

/**
 * The authentik `Event` a change would produce (what notification rules and transports
 * see): `context.model` + `context.http_request`, recorded by the audit middleware.
 */

export interface EventUser {
  pk: number;
  username: string;
  email: string;
}

/** Type aliases (not interfaces) so that they are plain dicts for `pythonRepr`. */
export type EventModelContext = {
  pk: number | string;
  app: 'authentik_core';
  name: string;
  model_name: 'user' | 'group';
};

export type EventContext = {
  model: EventModelContext;
  http_request: {
    args: Record<string, string>;
    path: string;
    method: string;
    request_id: string;
    user_agent: string;
  };
};

export interface DemoEvent {
  /** uuid4 hex, no dashes. */
  pk: string;
  action: ChangeAction;
  app: 'authentik.events.middleware';
  created: Date;
  /** The actor. */
  user: EventUser;
  context: EventContext;
}

/** The token owner of the demo: authentik's bootstrap admin. */
export const DEFAULT_ACTOR: EventUser = { pk: 1, username: 'akadmin', email: 'admin@demo.example' };

export function eventFromChange(change: ChangeDescription, actor: EventUser, now = new Date()): DemoEvent {
  return {
    pk: randomHex(),
    action: change.action,
    app: 'authentik.events.middleware',
    created: now,
    user: actor,
    context: {
      model: {
        // Event contexts carry group UUIDs without dashes.
        pk: typeof change.pk === 'string' ? change.pk.replace(/-/g, '') : change.pk,
        app: 'authentik_core',
        name: change.name,
        model_name: change.model,
      },
      http_request: {
        args: {},
        path: change.request.path,
        method: change.request.method,
        request_id: randomHex(),
        user_agent: 'demo',
      },
    },
  };
}

/** Python's `datetime.isoformat()` for an aware UTC datetime. */
export function pythonIsoformat(date: Date): string {
  const iso = date.toISOString();
  const millis = iso.slice(20, 23);
  return `${iso.slice(0, 19)}${millis === '000' ? '' : `.${millis}000`}+00:00`;
}

function randomHex(): string {
  return randomUUID().replace(/-/g, '');
}
