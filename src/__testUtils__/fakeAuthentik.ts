import { AuthentikApi, ListPageRequest, ListUsersRequest } from '../client/AuthentikClient';
import { AuthentikGroup, AuthentikPage, AuthentikUser, normalizeGroupPk } from '../client/schemas';
import { slicePage } from './fixtures';

export interface ListCall {
  kind: 'users' | 'groups';
  page: number;
  pageSize: number;
  activeOnly?: boolean;
  types?: string[];
  signal?: AbortSignal;
}

/**
 * An in-memory authentik with offset pagination over mutable lists, like the real one:
 * a page is computed when it is requested, so objects created or deleted between requests
 * shift the pages that follow. Requests above `maxPageSize` are silently capped (2025.12+).
 */
export class FakeAuthentik implements AuthentikApi {
  users: AuthentikUser[] = [];
  groups: AuthentikGroup[] = [];
  maxPageSize = Number.POSITIVE_INFINITY;
  /** `username` imitates an authentik that ignores `ordering=pk`. */
  userOrdering: 'pk' | 'username' = 'pk';
  readonly calls: ListCall[] = [];
  /** Runs as each list request arrives, before it is answered (1-based request number). */
  onList?: (call: number, request: ListCall) => void;

  constructor(init: { users?: AuthentikUser[]; groups?: AuthentikGroup[] } = {}) {
    this.users = [...(init.users ?? [])];
    this.groups = [...(init.groups ?? [])];
  }

  async listUsers(request: ListUsersRequest): Promise<AuthentikPage<AuthentikUser> | undefined> {
    const call = this.record({ kind: 'users', ...request });
    const visible = this.users
      .filter(u => !request.activeOnly || u.is_active)
      .filter(u => !request.types || request.types.includes(u.type))
      .sort(this.userOrdering === 'pk' ? (a, b) => a.pk - b.pk : (a, b) => (a.username < b.username ? -1 : 1));
    return slicePage(visible, call.page, Math.min(call.pageSize, this.maxPageSize));
  }

  async listGroups(request: ListPageRequest): Promise<AuthentikPage<AuthentikGroup> | undefined> {
    const call = this.record({ kind: 'groups', ...request });
    const ordered = [...this.groups].sort((a, b) => (normalizeGroupPk(a.pk) < normalizeGroupPk(b.pk) ? -1 : 1));
    return slicePage(ordered, call.page, Math.min(call.pageSize, this.maxPageSize));
  }

  async getUser(pk: string): Promise<AuthentikUser | undefined> {
    return this.users.find(u => String(u.pk) === pk);
  }

  async getGroup(pk: string): Promise<AuthentikGroup | undefined> {
    return this.groups.find(g => normalizeGroupPk(g.pk) === normalizeGroupPk(pk));
  }

  /** Live user pks, ascending. */
  userPks(filter: (u: AuthentikUser) => boolean = u => u.is_active): number[] {
    return this.users.filter(filter).map(u => u.pk).sort((a, b) => a - b);
  }

  deleteUsers(pks: number[]): void {
    const gone = new Set(pks);
    this.users = this.users.filter(u => !gone.has(u.pk));
  }

  private record(request: ListCall): ListCall {
    this.calls.push(request);
    this.onList?.(this.calls.length, request);
    return request;
  }
}
