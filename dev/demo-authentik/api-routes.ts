import { DemoDirectory } from './directory';
import { DemoEventLog } from './event-log';
import { GroupListing } from './group-listing';
import { HttpError } from './http';
import { PageSizeLimits, pageSizeFrom, paginate } from './pagination';
import { includeSwitch } from './query';
import { ApiShape, GroupIncludes, Serializers, UserIncludes } from './serializers';
import { UserListing } from './user-listing';

export interface ApiResponse {
  status: number;
  body: unknown;
  /** `body` already serialized, when it was cheaper to build it so. */
  json?: string;
}

const USER_DETAIL = /^\/core\/users\/([^/]+)\/$/;
const GROUP_DETAIL = /^\/core\/groups\/([^/]+)\/$/;

/** The read-only part of authentik's `/api/v3` this module uses. Paths are relative to `/api/v3`. */
export class AuthentikApi {
  private readonly users: UserListing;
  private readonly groups: GroupListing;
  private readonly serializers: Serializers;
  /**
   * Each user's JSON as a list page sends it, until the directory changes. authentik's own
   * time is the server's `latencyMs`; serializing 100 users a request (an avatar hash and
   * dates each) would add CPU on the machine that runs the walk being measured. A walk
   * over an unchanged directory (or the benchmark's warm-up) serializes each user once.
   */
  private userJson = new WeakMap<object, { version: number; includeKey: string; json: string }>();

  /** Answer 403 on the event log (a token without `authentik_events.view_event`). */
  eventLogForbidden = false;

  constructor(
    private readonly directory: DemoDirectory,
    shape: ApiShape,
    private readonly limits: PageSizeLimits,
    private readonly eventLog: DemoEventLog,
    /** authentik 2025.8+: users' `last_updated` and its `last_updated__gt` filter. */
    lastUpdated = true,
  ) {
    this.users = new UserListing(directory, lastUpdated);
    this.groups = new GroupListing(directory);
    this.serializers = new Serializers(directory, shape, lastUpdated);
  }

  forgetSerializedUsers(): void {
    this.userJson = new WeakMap();
  }

  /** Whether `path` is one of the routes (for 405 vs 404). */
  knows(path: string): boolean {
    return path === '/core/users/' || path === '/core/groups/' || path === '/events/events/' || USER_DETAIL.test(path) || GROUP_DETAIL.test(path);
  }

  get(path: string, params: URLSearchParams): ApiResponse {
    if (path === '/core/users/') return this.listUsers(params);
    if (path === '/core/groups/') return this.listGroups(params);
    if (path === '/events/events/') return this.listEvents(params);
    const userPk = USER_DETAIL.exec(path)?.[1];
    if (userPk !== undefined) return this.userDetail(userPk, params);
    const groupPk = GROUP_DETAIL.exec(path)?.[1];
    if (groupPk !== undefined) return this.groupDetail(groupPk, params);
    throw HttpError.detail(404, 'Not found.');
  }

  private listUsers(params: URLSearchParams): ApiResponse {
    const users = this.users.list(params);
    const { pagination, slice } = paginate(users, params.get('page'), pageSizeFrom(params.get('page_size'), this.limits));
    const include = userIncludes(params);
    const includeKey = `${include.groups}:${include.roles}`;
    const version = this.directory.version;
    const results = slice.map(user => {
      const memo = this.userJson.get(user);
      if (memo && memo.version === version && memo.includeKey === includeKey) return memo.json;
      const json = JSON.stringify(this.serializers.user(user, include));
      this.userJson.set(user, { version, includeKey, json });
      return json;
    });
    return {
      status: 200,
      body: undefined,
      json: `{"pagination":${JSON.stringify(pagination)},"results":[${results.join(',')}],"autocomplete":{}}`,
    };
  }

  private listGroups(params: URLSearchParams): ApiResponse {
    const groups = this.groups.list(params);
    const { pagination, slice } = paginate(groups, params.get('page'), pageSizeFrom(params.get('page_size'), this.limits));
    const include = groupIncludes(params);
    return ok({ pagination, results: slice.map(group => this.serializers.group(group, include)), autocomplete: {} });
  }

  private listEvents(params: URLSearchParams): ApiResponse {
    if (this.eventLogForbidden) throw HttpError.detail(403, 'You do not have permission to perform this action.');
    const events = this.eventLog.list(params);
    const { pagination, slice } = paginate(events, params.get('page'), pageSizeFrom(params.get('page_size'), this.limits));
    return ok({ pagination, results: slice.map(event => this.eventLog.serialize(event)), autocomplete: {} });
  }

  private userDetail(rawPk: string, params: URLSearchParams): ApiResponse {
    const user = /^\d+$/.test(rawPk) ? this.directory.userRecord(Number(rawPk)) : undefined;
    if (!user) throw HttpError.detail(404, 'No User matches the given query.');
    return ok(this.serializers.user(user, userIncludes(params)));
  }

  private groupDetail(rawPk: string, params: URLSearchParams): ApiResponse {
    const group = this.directory.groupRecord(rawPk);
    if (!group) throw HttpError.detail(404, 'No Group matches the given query.');
    return ok(this.serializers.group(group, groupIncludes(params)));
  }
}

function ok(body: unknown): ApiResponse {
  return { status: 200, body };
}

function userIncludes(params: URLSearchParams): UserIncludes {
  return {
    groups: includeSwitch(params, 'include_groups', true),
    roles: includeSwitch(params, 'include_roles', true),
  };
}

function groupIncludes(params: URLSearchParams): GroupIncludes {
  return {
    users: includeSwitch(params, 'include_users', true),
    children: includeSwitch(params, 'include_children', false),
    parents: includeSwitch(params, 'include_parents', false),
    inheritedRoles: includeSwitch(params, 'include_inherited_roles', false),
  };
}
