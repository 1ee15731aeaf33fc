/**
 * authentik notification webhook bodies, written by hand from authentik's documented
 * shapes (see /work/shared/authentik-facts.md) — independent of the demo's own sender.
 */
import { randomUUID } from 'node:crypto';

export interface ModelRef {
  /** user: int pk; group: UUID (dashed or not; event contexts strip the dashes). */
  pk: number | string | boolean | null;
  /** user: display name; group: name. */
  name: string;
  model_name: string;
  app?: string;
}

export function userModel(user: { pk: number; name: string }): ModelRef {
  return { pk: user.pk, name: user.name, model_name: 'user' };
}

export function groupModel(group: { pk: string; name: string }): ModelRef {
  return { pk: group.pk.replace(/-/g, ''), name: group.name, model_name: 'group' };
}

const hex = () => randomUUID().replace(/-/g, '');

/** Python's `datetime.isoformat()` of an aware UTC datetime (microseconds). */
function pythonNow(): string {
  const iso = new Date().toISOString();
  return `${iso.slice(0, 23)}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}+00:00`;
}

/** The project's recommended body mapping (`AUTHENTIK_WEBHOOK_BODY_MAPPING`) output. */
export function mappingBody(action: string, model: ModelRef | null, extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    event_pk: hex(),
    action,
    created: pythonNow(),
    model: model && { pk: model.pk, app: model.app ?? 'authentik_core', name: model.name, model_name: model.model_name },
    ...extra,
  };
}

/** A Python `repr()` of a str: single quotes unless the text holds one and no double quote. */
export function pyStr(text: string): string {
  if (text.includes("'") && !text.includes('"')) return `"${text.replace(/\\/g, '\\\\')}"`;
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function pyValue(value: ModelRef['pk']): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  return typeof value === 'number' ? String(value) : pyStr(value);
}

/**
 * authentik's default body (no body mapping): `"<action>: <context repr>"`, the context's
 * keys ordered by length then bytewise, as authentik renders it.
 */
export function defaultBody(action: string, model: ModelRef) {
  const path =
    model.model_name === 'group' ? `/api/v3/core/groups/${String(model.pk)}/` : `/api/v3/core/users/${String(model.pk)}/`;
  const context =
    `{'model': {'pk': ${pyValue(model.pk)}, 'app': ${pyStr(model.app ?? 'authentik_core')}, 'name': ${pyStr(model.name)}, ` +
    `'model_name': ${pyStr(model.model_name)}}, 'http_request': {'args': {}, 'path': ${pyStr(path)}, 'method': 'PATCH', ` +
    `'request_id': ${pyStr(hex())}, 'user_agent': 'Mozilla/5.0 (X11; Linux x86_64)'}}`;
  return {
    body: `${action}: ${context}`,
    severity: 'notice',
    user_email: 'admin@demo.example',
    user_username: 'akadmin',
    event_user_email: 'admin@demo.example',
    event_user_username: 'akadmin',
  };
}

/** The transport's "Test" button, in both forms. */
export const TEST_NOTIFICATION_MAPPING = { version: 1, test: true, body: 'Test Notification from transport backstage' };
export const TEST_NOTIFICATION_DEFAULT = {
  body: 'Test Notification from transport backstage',
  severity: 'notice',
  user_email: 'admin@demo.example',
  user_username: 'akadmin',
};
