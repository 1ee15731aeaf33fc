/**
 * The demo directory's vocabulary: what a user, a group and a change look like.
 * Field names follow authentik's REST API (snake_case) so that serializing is a copy.
 */

export const USER_TYPES = [
  'internal',
  'external',
  'service_account',
  'internal_service_account',
] as const;

export type UserType = (typeof USER_TYPES)[number];

/** A JSON value, as stored in authentik's `attributes` JSON fields. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

export type Attributes = { [key: string]: JsonValue };

/** A user as the directory stores it (membership lives elsewhere, see `membership.ts`). */
export interface UserRecord {
  readonly pk: number;
  username: string;
  /** Display name. */
  name: string;
  /** May be `''`. */
  email: string;
  is_active: boolean;
  type: UserType;
  /** sha256 hex, fixed at creation (authentik's OIDC `sub`); survives renames. */
  readonly uid: string;
  readonly uuid: string;
  path: string;
  /** An explicit avatar; when absent one is derived from the email (see `avatar.ts`). */
  avatar?: string;
  attributes: Attributes;
  /** Epoch milliseconds. */
  readonly date_joined: number;
  last_updated: number;
  last_login: number | null;
}

/** A user with its derived group list: what lookups return. */
export interface DemoUser extends Omit<UserRecord, 'avatar'> {
  avatar: string;
  /** Dashed group UUIDs. */
  groups: string[];
}

export interface GroupRecord {
  /** Dashed lowercase UUID. */
  readonly pk: string;
  readonly num_pk: number;
  /** Unique. */
  name: string;
  /** Dashed UUIDs; a DAG in authentik ≥ 2025.12 (cycles are not rejected here either). */
  parents: string[];
  is_superuser: boolean;
  attributes: Attributes;
}

/** A group with its derived member list: what lookups return. */
export interface DemoGroup extends GroupRecord {
  /** Member user pks, ascending. */
  users: number[];
}

export type ChangeAction = 'model_created' | 'model_updated' | 'model_deleted';

export type RequestMethod = 'POST' | 'PATCH' | 'PUT' | 'DELETE';

interface ChangeBase {
  action: ChangeAction;
  /** User display name or group name. */
  name: string;
  /** The authentik REST call that would have caused the change (the event's `http_request`). */
  request: { method: RequestMethod; path: string };
}

export interface UserChange extends ChangeBase {
  model: 'user';
  pk: number;
}

export interface GroupChange extends ChangeBase {
  model: 'group';
  /** The dashed UUID (event contexts strip the dashes). */
  pk: string;
}

/**
 * One change, described the way authentik's audit middleware would record it
 * (`context.model` of a `model_*` event).
 */
export type ChangeDescription = UserChange | GroupChange;

export type ChangeListener = (change: ChangeDescription) => void;
