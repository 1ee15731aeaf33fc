import { defaultAvatar } from './avatar';
import { groupUuid, parseUuid, userUid, userUuid } from './ids';
import { Membership } from './membership';
import { ChangeJournal, ChangeSubject } from './change-journal';
import {
  Attributes,
  ChangeAction,
  ChangeDescription,
  ChangeListener,
  DemoGroup,
  DemoUser,
  GroupChange,
  GroupRecord,
  RequestMethod,
  USER_TYPES,
  UserChange,
  UserRecord,
  UserType,
} from './types';

export interface NewUser {
  pk?: number;
  username: string;
  name?: string;
  email?: string;
  is_active?: boolean;
  type?: UserType;
  path?: string;
  avatar?: string;
  attributes?: Attributes;
  /** Dashed group UUIDs (convenience: one `model_created`, no extra event). */
  groups?: readonly string[];
  /** Epoch ms; defaults to the directory's clock. */
  date_joined?: number;
  last_login?: number | null;
}

export type UserPatch = Partial<
  Pick<
    UserRecord,
    'username' | 'name' | 'email' | 'is_active' | 'type' | 'path' | 'avatar' | 'attributes' | 'last_login'
  >
>;

export interface NewGroup {
  /** Dashed UUID; derived from `num_pk` when absent. */
  pk?: string;
  name: string;
  parents?: readonly string[];
  is_superuser?: boolean;
  attributes?: Attributes;
  /** Member user pks. */
  users?: readonly number[];
}

export type GroupPatch = Partial<Pick<GroupRecord, 'name' | 'parents' | 'is_superuser' | 'attributes'>>;

export type DirectoryErrorKind = 'not_found' | 'conflict' | 'invalid';

/** A refused mutation; `field` names the offending input, as DRF validation errors do. */
export class DemoDirectoryError extends Error {
  constructor(
    readonly kind: DirectoryErrorKind,
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'DemoDirectoryError';
  }
}

export interface DemoDirectoryOptions {
  /** Epoch-ms clock for `date_joined`/`last_updated` (tests may pin it). */
  now?: () => number;
}

const USERS_PATH = '/api/v3/core/users/';
const GROUPS_PATH = '/api/v3/core/groups/';

/**
 * An in-memory authentik directory. Every mutation bumps `version`, notifies the
 * `onChange` listeners and returns the change as authentik's audit log would describe it.
 */
export class DemoDirectory {
  private readonly usersByPk = new Map<number, UserRecord>();
  private readonly userPkByUsername = new Map<string, number>();
  private readonly groupsByPk = new Map<string, GroupRecord>();
  private readonly groupPkByName = new Map<string, string>();
  private readonly membership = new Membership();
  private readonly listeners = new Set<ChangeListener>();
  private readonly now: () => number;
  private nextUserPk = 1;
  private nextGroupNumPk = 1;
  private childrenIndex: { version: number; byParent: Map<string, string[]> } | undefined;
  private superuserIndex: { version: number; groups: ReadonlySet<string> } | undefined;
  private changeCount = 0;
  private readonly journal = new ChangeJournal();

  constructor(options: DemoDirectoryOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Increases on every mutation: caches derived from the directory key on it. */
  get version(): number {
    return this.changeCount;
  }

  get userCount(): number {
    return this.usersByPk.size;
  }

  get groupCount(): number {
    return this.groupsByPk.size;
  }

  /** Subscribe to changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- users ------------------------------------------------------------------------

  addUser(input: NewUser): UserChange {
    const pk = input.pk ?? this.nextUserPk;
    if (!Number.isInteger(pk) || pk < 1) throw invalid('pk', `Invalid user pk ${pk}.`);
    if (this.usersByPk.has(pk)) throw conflict('pk', `A user with pk ${pk} already exists.`);
    this.assertUsernameFree(input.username);
    const type = input.type ?? 'internal';
    assertUserType(type);
    const groups = (input.groups ?? []).map(g => this.requireGroup(g, 'groups').pk);
    const joined = input.date_joined ?? this.now();
    const record: UserRecord = {
      pk,
      username: input.username,
      name: input.name ?? '',
      email: input.email ?? '',
      is_active: input.is_active ?? true,
      type,
      uid: userUid(pk, input.username),
      uuid: userUuid(pk),
      path: input.path ?? 'users',
      attributes: input.attributes ?? {},
      date_joined: joined,
      last_updated: joined,
      last_login: input.last_login ?? null,
    };
    if (input.avatar !== undefined) record.avatar = input.avatar;
    this.usersByPk.set(pk, record);
    this.userPkByUsername.set(record.username, pk);
    this.nextUserPk = Math.max(this.nextUserPk, pk + 1);
    for (const groupPk of groups) this.membership.link(groupPk, pk);
    return this.userChange(record, 'model_created', 'POST', USERS_PATH);
  }

  /** Any field patch; deactivation is `{ is_active: false }`. */
  updateUser(pk: number, patch: UserPatch): UserChange {
    const record = this.requireUser(pk);
    if (patch.username !== undefined && patch.username !== record.username) {
      this.assertUsernameFree(patch.username);
      this.userPkByUsername.delete(record.username);
      this.userPkByUsername.set(patch.username, pk);
      record.username = patch.username;
    }
    if (patch.type !== undefined) assertUserType(patch.type);
    if (patch.name !== undefined) record.name = patch.name;
    if (patch.email !== undefined) record.email = patch.email;
    if (patch.is_active !== undefined) record.is_active = patch.is_active;
    if (patch.type !== undefined) record.type = patch.type;
    if (patch.path !== undefined) record.path = patch.path;
    if (patch.avatar !== undefined) record.avatar = patch.avatar;
    if (patch.attributes !== undefined) record.attributes = patch.attributes;
    if (patch.last_login !== undefined) record.last_login = patch.last_login;
    return this.userUpdated(record);
  }

  deleteUser(pk: number): UserChange {
    const record = this.requireUser(pk);
    this.membership.forgetUser(pk);
    this.usersByPk.delete(pk);
    this.userPkByUsername.delete(record.username);
    return this.userChange(record, 'model_deleted', 'DELETE', `${USERS_PATH}${pk}/`);
  }

  /** Replace a user's groups (a PATCH of `groups`): `model_updated` on the user. */
  setUserGroups(userPk: number, groupPks: readonly string[]): UserChange {
    const record = this.requireUser(userPk);
    const wanted = new Set(groupPks.map(g => this.requireGroup(g, 'groups').pk));
    for (const groupPk of [...this.membership.groupsOf(userPk)]) {
      if (!wanted.has(groupPk)) this.membership.unlink(groupPk, userPk);
    }
    for (const groupPk of wanted) this.membership.link(groupPk, userPk);
    return this.userUpdated(record);
  }

  // ---- groups -----------------------------------------------------------------------

  addGroup(input: NewGroup): GroupChange {
    const numPk = this.nextGroupNumPk;
    const pk = input.pk === undefined ? groupUuid(numPk) : parseUuid(input.pk);
    if (pk === undefined) throw invalid('pk', `"${input.pk}" is not a valid UUID.`);
    if (this.groupsByPk.has(pk)) throw conflict('pk', `A group with pk ${pk} already exists.`);
    this.assertGroupNameFree(input.name);
    const parents = this.resolveParents(input.parents ?? []);
    const members = (input.users ?? []).map(u => this.requireUser(u, 'users').pk);
    const record: GroupRecord = {
      pk,
      num_pk: numPk,
      name: input.name,
      parents,
      is_superuser: input.is_superuser ?? false,
      attributes: input.attributes ?? {},
    };
    this.groupsByPk.set(pk, record);
    this.groupPkByName.set(record.name, pk);
    this.nextGroupNumPk += 1;
    for (const userPk of members) this.membership.link(pk, userPk);
    return this.groupChange(record, 'model_created', 'POST', GROUPS_PATH);
  }

  updateGroup(pk: string, patch: GroupPatch): GroupChange {
    const record = this.requireGroup(pk);
    if (patch.name !== undefined && patch.name !== record.name) {
      this.assertGroupNameFree(patch.name);
      this.groupPkByName.delete(record.name);
      this.groupPkByName.set(patch.name, record.pk);
      record.name = patch.name;
    }
    if (patch.parents !== undefined) record.parents = this.resolveParents(patch.parents);
    if (patch.is_superuser !== undefined) record.is_superuser = patch.is_superuser;
    if (patch.attributes !== undefined) record.attributes = patch.attributes;
    return this.groupChange(record, 'model_updated', 'PATCH', `${GROUPS_PATH}${record.pk}/`);
  }

  renameGroup(pk: string, name: string): GroupChange {
    return this.updateGroup(pk, { name });
  }

  /** Cycles are accepted, as authentik does not reject them either. */
  setGroupParents(pk: string, parents: readonly string[]): GroupChange {
    return this.updateGroup(pk, { parents: [...parents] });
  }

  /** Also drops the group from its members and from other groups' parents (no events for those). */
  deleteGroup(pk: string): GroupChange {
    const record = this.requireGroup(pk);
    this.membership.forgetGroup(record.pk);
    this.groupsByPk.delete(record.pk);
    this.groupPkByName.delete(record.name);
    for (const other of this.groupsByPk.values()) {
      if (other.parents.includes(record.pk)) other.parents = other.parents.filter(p => p !== record.pk);
    }
    return this.groupChange(record, 'model_deleted', 'DELETE', `${GROUPS_PATH}${record.pk}/`);
  }

  /** authentik's `POST /core/groups/{uuid}/add_user/`: `model_updated` on the group, even if already a member. */
  addMember(groupPk: string, userPk: number): GroupChange {
    const group = this.requireGroup(groupPk);
    this.requireUser(userPk, 'pk');
    this.membership.link(group.pk, userPk);
    return this.groupChange(group, 'model_updated', 'POST', `${GROUPS_PATH}${group.pk}/add_user/`);
  }

  /** authentik's `POST /core/groups/{uuid}/remove_user/`: `model_updated` on the group. */
  removeMember(groupPk: string, userPk: number): GroupChange {
    const group = this.requireGroup(groupPk);
    this.requireUser(userPk, 'pk');
    this.membership.unlink(group.pk, userPk);
    return this.groupChange(group, 'model_updated', 'POST', `${GROUPS_PATH}${group.pk}/remove_user/`);
  }

  // ---- lookups ----------------------------------------------------------------------

  getUser(pk: number): DemoUser | undefined {
    const record = this.usersByPk.get(pk);
    return record && this.userView(record);
  }

  findUserByUsername(username: string): DemoUser | undefined {
    const pk = this.userPkByUsername.get(username);
    return pk === undefined ? undefined : this.getUser(pk);
  }

  /** Accepts the dashed or the bare (event-context) form of the UUID. */
  getGroup(pk: string): DemoGroup | undefined {
    const record = this.groupRecord(pk);
    return record && this.groupView(record);
  }

  findGroupByName(name: string): DemoGroup | undefined {
    const pk = this.groupPkByName.get(name);
    return pk === undefined ? undefined : this.getGroup(pk);
  }

  /** The stored user, read-only, without copying (for listings). */
  userRecord(pk: number): Readonly<UserRecord> | undefined {
    return this.usersByPk.get(pk);
  }

  groupRecord(pk: string): Readonly<GroupRecord> | undefined {
    const uuid = parseUuid(pk);
    return uuid === undefined ? undefined : this.groupsByPk.get(uuid);
  }

  /** All stored users, insertion order, read-only, without copying. */
  userRecords(): IterableIterator<Readonly<UserRecord>> {
    return this.usersByPk.values();
  }

  groupRecords(): IterableIterator<Readonly<GroupRecord>> {
    return this.groupsByPk.values();
  }

  /** Users created, updated or deleted after `version` (see `ChangeJournal`). */
  usersTouchedSince(version: number): ReadonlySet<Readonly<UserRecord>> | undefined {
    return this.journal.usersSince(version, this.version);
  }

  groupsTouchedSince(version: number): ReadonlySet<Readonly<GroupRecord>> | undefined {
    return this.journal.groupsSince(version, this.version);
  }

  groupsOf(userPk: number): ReadonlySet<string> {
    return this.membership.groupsOf(userPk);
  }

  usersOf(groupPk: string): ReadonlySet<number> {
    return this.membership.usersOf(groupPk);
  }

  /** Groups that list `groupPk` among their parents (derived, cached per version). */
  childrenOf(groupPk: string): readonly string[] {
    if (this.childrenIndex?.version !== this.version) {
      const byParent = new Map<string, string[]>();
      for (const group of this.groupsByPk.values()) {
        for (const parent of group.parents) {
          const list = byParent.get(parent) ?? [];
          list.push(group.pk);
          byParent.set(parent, list);
        }
      }
      this.childrenIndex = { version: this.version, byParent };
    }
    return this.childrenIndex.byParent.get(groupPk) ?? [];
  }

  /** authentik: superuser when any of the user's groups or their ancestors is a superuser group. */
  isSuperuser(userPk: number): boolean {
    const superGroups = this.superuserGroups();
    if (superGroups.size === 0) return false;
    for (const groupPk of this.membership.groupsOf(userPk)) if (superGroups.has(groupPk)) return true;
    return false;
  }

  /** Groups whose members are superusers (superuser groups and their descendants), cached per version. */
  private superuserGroups(): ReadonlySet<string> {
    if (this.superuserIndex?.version === this.version) return this.superuserIndex.groups;
    // Walk down from the superuser groups through children: safe with parent cycles.
    const groups = new Set<string>();
    const stack: string[] = [];
    for (const group of this.groupsByPk.values()) if (group.is_superuser) stack.push(group.pk);
    for (let pk = stack.pop(); pk !== undefined; pk = stack.pop()) {
      if (groups.has(pk)) continue;
      groups.add(pk);
      stack.push(...this.childrenOf(pk));
    }
    this.superuserIndex = { version: this.version, groups };
    return groups;
  }

  avatarOf(record: Readonly<UserRecord>): string {
    return record.avatar ?? defaultAvatar(record);
  }

  // ---- internals --------------------------------------------------------------------

  private userView(record: UserRecord): DemoUser {
    return {
      ...record,
      attributes: structuredClone(record.attributes),
      avatar: this.avatarOf(record),
      groups: [...this.membership.groupsOf(record.pk)],
    };
  }

  private groupView(record: GroupRecord): DemoGroup {
    return {
      ...record,
      parents: [...record.parents],
      attributes: structuredClone(record.attributes),
      users: [...this.membership.usersOf(record.pk)].sort((a, b) => a - b),
    };
  }

  private userUpdated(record: UserRecord): UserChange {
    record.last_updated = Math.max(this.now(), record.last_updated);
    return this.userChange(record, 'model_updated', 'PATCH', `${USERS_PATH}${record.pk}/`);
  }

  private userChange(record: UserRecord, action: ChangeAction, method: RequestMethod, path: string): UserChange {
    const change: UserChange = { model: 'user', pk: record.pk, action, name: record.name, request: { method, path } };
    this.emit(change, { model: 'user', user: record });
    return change;
  }

  private groupChange(record: GroupRecord, action: ChangeAction, method: RequestMethod, path: string): GroupChange {
    const change: GroupChange = { model: 'group', pk: record.pk, action, name: record.name, request: { method, path } };
    this.emit(change, { model: 'group', group: record });
    return change;
  }

  private emit(change: ChangeDescription, subject: ChangeSubject): void {
    this.changeCount += 1;
    this.journal.record(this.changeCount, subject);
    for (const listener of this.listeners) listener(change);
  }

  private requireUser(pk: number, field = 'pk'): UserRecord {
    const record = this.usersByPk.get(pk);
    if (!record) throw new DemoDirectoryError('not_found', field, 'No User matches the given query.');
    return record;
  }

  private requireGroup(pk: string, field = 'pk'): GroupRecord {
    const uuid = parseUuid(pk);
    const record = uuid === undefined ? undefined : this.groupsByPk.get(uuid);
    if (!record) throw new DemoDirectoryError('not_found', field, 'No Group matches the given query.');
    return record;
  }

  private resolveParents(parents: readonly string[]): string[] {
    return [...new Set(parents.map(p => this.requireGroup(p, 'parents').pk))];
  }

  private assertUsernameFree(username: string): void {
    if (username === '') throw invalid('username', 'This field may not be blank.');
    if (this.userPkByUsername.has(username)) throw conflict('username', 'This field must be unique.');
  }

  private assertGroupNameFree(name: string): void {
    if (name === '') throw invalid('name', 'This field may not be blank.');
    if (this.groupPkByName.has(name)) throw conflict('name', 'This field must be unique.');
  }
}

function assertUserType(type: string): asserts type is UserType {
  if (!(USER_TYPES as readonly string[]).includes(type)) {
    throw invalid('type', `"${type}" is not a valid choice.`);
  }
}

function invalid(field: string, message: string): DemoDirectoryError {
  return new DemoDirectoryError('invalid', field, message);
}

function conflict(field: string, message: string): DemoDirectoryError {
  return new DemoDirectoryError('conflict', field, message);
}
