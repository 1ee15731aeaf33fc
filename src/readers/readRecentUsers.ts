import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikPage, AuthentikUser } from '../client/schemas';
import { mapConcurrent } from '../util/mapConcurrent';

export interface RecentUsersRequest {
  /** Epoch ms: the users saved after this time are listed (`last_updated__gt`). */
  after: number;
  /** User pks looked for. */
  wanted: ReadonlySet<string>;
  pageSize: number;
  /** Pages after the first fetched at once. */
  concurrency: number;
  signal?: AbortSignal;
  /**
   * Asked once, after the first page, when wanted users are still missing: whether reading
   * `pages` more pages is worth it to find `missing` users (else they are left to the caller).
   */
  worthReading(pages: number, missing: number): Promise<boolean>;
}

export interface RecentUsers {
  /** Wanted users the list held: a current read of each, whether eligible or not. */
  found: Map<string, AuthentikUser>;
  /**
   * False when a listed user had no `last_updated`, or one not after `after`: the server
   * ignored the filter (authentik before 2025.8, where DRF drops unknown parameters) and
   * the reading stopped after that page. What was read is still a valid read.
   */
  filtered: boolean;
  requests: number;
}

/**
 * Reads the users authentik saved after a time (`GET /core/users/?last_updated__gt=…`),
 * unfiltered by activity or type, and keeps the wanted ones.
 *
 * Only an optimisation: a user found is a current read of it (as `getUser` would give), but
 * a user NOT found proves nothing — deleted, changed without a save (a membership set
 * through its group), a clock apart, or slid across a page boundary while the list moved
 * (offset pages). The caller reads those another way.
 */
export async function readRecentUsers(api: AuthentikApi, request: RecentUsersRequest): Promise<RecentUsers> {
  const { after, wanted, pageSize, concurrency, signal } = request;
  const found = new Map<string, AuthentikUser>();
  let requests = 0;
  const read = (page: number) => {
    requests++;
    return api.listUsers({ page, pageSize, lastUpdatedAfter: new Date(after), signal });
  };
  /** Records the wanted users of a page; false when the page shows the filter was ignored. */
  const take = (page: AuthentikPage<AuthentikUser>): boolean => {
    let filtered = true;
    for (const user of page.results) {
      if (wanted.has(String(user.pk))) found.set(String(user.pk), user);
      // authentik compares in microseconds, we get them truncated to milliseconds: a user
      // saved within the same millisecond as `after` reads as equal, never as earlier.
      // Missing or unparsable counts as "not filtered" too (NaN >= after is false).
      if (!user.last_updated || !(Date.parse(user.last_updated) >= after)) filtered = false;
    }
    return filtered;
  };

  const first = await read(1);
  if (!first) return { found, filtered: true, requests };
  if (!take(first)) return { found, filtered: false, requests };
  const more = first.pagination.total_pages - 1;
  const missing = [...wanted].filter(pk => !found.has(pk)).length;
  if (missing === 0 || more <= 0 || !(await request.worthReading(more, missing))) {
    return { found, filtered: true, requests };
  }

  let filtered = true;
  const pages = Array.from({ length: more }, (_, i) => i + 2);
  await mapConcurrent(pages, concurrency, async page => {
    // Stop once the list is shown unfiltered, or once every wanted user is found.
    if (!filtered || found.size === wanted.size) return;
    const result = await read(page);
    if (result && !take(result)) filtered = false;
  });
  return { found, filtered, requests };
}
