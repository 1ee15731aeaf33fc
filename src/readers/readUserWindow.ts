import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikResponseError } from '../client/errors';
import { AuthentikPagination, AuthentikUser } from '../client/schemas';
import { RequestSlots } from '../util/RequestSlots';

export interface UserWindowRequest {
  /** First page not yet read. */
  page: number;
  /** Highest user pk already emitted in this walk (0 at the start). */
  afterPk: number;
  pageSize: number;
  /** New pages per window, fetched at once. */
  concurrency: number;
  activeOnly: boolean;
  types?: string[];
  signal?: AbortSignal;
  /** Re-reads of a window whose pages disagree on the count. Default 3. */
  attempts?: number;
  /**
   * First pk of the anchor page (`page - 1`) when the previous window read it. If the
   * anchor now starts elsewhere, the list shifted after that read began.
   */
  anchorFirstPk?: number;
}

export interface UserWindow {
  /** Users with pk > afterPk, ascending. */
  users: AuthentikUser[];
  nextPage: number;
  afterPk: number;
  done: boolean;
  /**
   * The list shifted under the previous window (`anchorFirstPk` moved): users may have slid
   * across a page boundary inside it unseen. Read that window again from its start.
   */
  shifted: boolean;
  /** First pk of this window's last page: the next window's `anchorFirstPk`. */
  lastPageFirstPk?: number;
  /** Size of the list as authentik reported it, and pages of it. */
  count: number;
  totalPages: number;
  requests: number;
}

/**
 * Reads the next window of the user list (ordered by pk) without ever skipping a live user.
 *
 * Pages are offsets: a user deleted (or deactivated) before our position moves every later
 * user one place forward, and the first user of the next page would slide, unseen, into a
 * page we already read. So each window also re-reads the page *before* it (the anchor):
 * when that page still starts at or below `afterPk` the window continues the walk without a
 * gap, and the users it holds above `afterPk` are exactly the ones that slid back. When the
 * list shrank by more than a page, the anchor starts above `afterPk` and the walk steps back
 * one page. New users get higher pks and append at the end, so they never shift the pages
 * before them. Pages of one window must agree on the count (nothing changed while they
 * were fetched together), else the window is read again.
 *
 * A deletion and a creation landing while one window's pages are in flight leave the count
 * unchanged but can still slide a user across a page boundary inside that window. The next
 * window notices: its anchor (the previous window's last page) no longer starts with the pk
 * seen before (`anchorFirstPk`), and the walk re-reads the previous window from its start.
 * That costs one window per shift, only when the directory changes during the walk.
 */
export async function readUserWindow(api: AuthentikApi, request: UserWindowRequest): Promise<UserWindow> {
  return interpretUserWindow(await fetchUserWindowPages(api, request), request);
}

/** What a window's pages need to be requested: nothing that depends on the window before. */
export type UserWindowPagesRequest = Omit<UserWindowRequest, 'afterPk' | 'anchorFirstPk'> & {
  /** Runs each request (a limit on requests in flight); default: at once. */
  slots?: RequestSlots;
  /**
   * Settles when every page of the window before this one has been answered. The anchor is
   * requested only then: its check must see what changed while those pages were in flight.
   */
  anchorAfter?: Promise<unknown>;
};

/**
 * A page of users as read: its pagination, and its users on `read()` (parsed then, with
 * `AuthentikApi.listUsersLazily`: a window's pages wait for each other as bytes).
 */
export interface UserPage {
  pagination: AuthentikPagination;
  /** The users; called at most once per page. */
  read(): AuthentikUser[];
}

/** The pages of one window as authentik served them, consistent with each other. */
export interface UserWindowPages {
  page: number;
  concurrency: number;
  /** The anchor page (`page - 1`, if any) first, then the window's own pages; undefined past the end. */
  responses: (UserPage | undefined)[];
  hasAnchor: boolean;
  count: number;
  totalPages: number;
  requests: number;
}

/**
 * Reads a window's pages (the anchor and `concurrency` new pages) until they agree on the
 * count. The requests depend on page numbers only, so the provider may start them before
 * the window before has been interpreted.
 */
export async function fetchUserWindowPages(api: AuthentikApi, request: UserWindowPagesRequest): Promise<UserWindowPages> {
  const attempts = request.attempts ?? 3;
  const anchorPage = request.page > 1 ? request.page - 1 : undefined;
  const pages = [
    ...(anchorPage ? [anchorPage] : []),
    ...Array.from({ length: request.concurrency }, (_, i) => request.page + i),
  ];
  const read = (page: number): Promise<UserPage | undefined> => {
    const listRequest = {
      page,
      pageSize: request.pageSize,
      activeOnly: request.activeOnly,
      types: request.types,
      signal: request.signal,
    };
    const call = api.listUsersLazily
      ? () => api.listUsersLazily!(listRequest)
      : () => api.listUsers(listRequest).then(read => read && { pagination: read.pagination, read: () => read.results });
    return request.slots ? request.slots.run(call) : call();
  };
  let requests = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const anchorAfter = attempt === 1 ? request.anchorAfter?.catch(() => undefined) : undefined;
    const responses = await Promise.all(
      pages.map(page => (page === anchorPage && anchorAfter ? anchorAfter.then(() => read(page)) : read(page))),
    );
    requests += pages.length;
    const present = responses.filter((r): r is UserPage => r !== undefined);
    const count = present[0]?.pagination.count ?? 0;
    if (!present.every(r => r.pagination.count === count)) {
      continue; // The list changed while this window was fetched: read it again.
    }
    const totalPages = present[0]?.pagination.total_pages ?? 0;
    if (responses.some((response, i) => response === undefined && pages[i] <= totalPages)) {
      // authentik called a page past the end that its own total_pages says exists: the list
      // changed between these reads. A page not read is a hole, never the end: read again.
      continue;
    }
    if (request.page === 1 && responses[0] === undefined) {
      // DRF always serves page 1 (an empty list is an empty page): no first page is no read.
      throw new AuthentikResponseError(
        'GET /api/v3/core/users/?page=1',
        404,
        'authentik called the first page of users past the end; nothing can be concluded from that',
      );
    }
    return { page: request.page, concurrency: request.concurrency, responses, hasAnchor: anchorPage !== undefined, count, totalPages, requests };
  }
  throw new Error(
    `authentik's user list kept changing (or had pages missing) while page ${request.page} was read; will retry`,
  );
}

/** The users of a window's pages above `afterPk`, after the anchor checks (see `readUserWindow`). */
export function interpretUserWindow(
  read: UserWindowPages,
  position: Pick<UserWindowRequest, 'afterPk' | 'anchorFirstPk'>,
): UserWindow {
  const scan = scanUserWindow(read, position);
  if (!scan.users) return { ...scan.end(), users: [] };
  const users = [...scan.users];
  return { ...scan.end(), users };
}

/**
 * `interpretUserWindow` one page at a time: `users` parses each page as it gets to it and
 * yields the window's users in order (a page's users are not kept once yielded); `end()`
 * says where the window ends, once `users` has been iterated to its end. Without `users`,
 * the window is not read (the anchor moved: see `UserWindow.shifted` and `nextPage`).
 */
export function scanUserWindow(
  read: UserWindowPages,
  position: Pick<UserWindowRequest, 'afterPk' | 'anchorFirstPk'>,
): { users?: Iterable<AuthentikUser>; end(): Omit<UserWindow, 'users'> } {
  const { responses, count, totalPages, requests } = read;
  let anchorUsers: AuthentikUser[] | undefined;
  if (read.hasAnchor) {
    const anchorPage = read.page - 1;
    anchorUsers = responses[0]?.read() ?? [];
    const first = anchorUsers[0];
    const stay = { afterPk: position.afterPk, done: false, count, totalPages, requests };
    if (position.anchorFirstPk !== undefined && first?.pk !== position.anchorFirstPk) {
      // Something before the anchor changed since the previous window read it, possibly
      // while that window's pages were in flight: a user may have slid, unseen, from one
      // of its pages into an earlier one. Only a re-read of that window is sure to see it.
      return { end: () => ({ ...stay, nextPage: read.page, shifted: true }) };
    }
    if (!first || first.pk > position.afterPk) {
      // The list shrank by a page or more before our position: step back and re-anchor.
      return { end: () => ({ ...stay, nextPage: anchorPage, shifted: false }) };
    }
  }

  let last = position.afterPk;
  let lastPageFirstPk: number | undefined;
  let ended = false;
  function* users(): Generator<AuthentikUser> {
    let previous: number | undefined;
    for (let i = 0; i < responses.length; i++) {
      const response = responses[i];
      const results = i === 0 && anchorUsers ? anchorUsers : (response?.read() ?? []);
      if (i === 0) anchorUsers = undefined;
      if (i === responses.length - 1) lastPageFirstPk = results[0]?.pk;
      for (const user of results) {
        if (user.pk <= position.afterPk) continue;
        if (previous !== undefined && user.pk <= previous) {
          if (user.pk === previous) continue;
          throw new AuthentikResponseError(
            'GET /api/v3/core/users/?ordering=pk',
            200,
            'users are not ordered by pk; this authentik version ignores ordering=pk',
          );
        }
        previous = user.pk;
        last = user.pk;
        yield user;
      }
    }
    ended = true;
  }
  const lastResponse = responses[responses.length - 1];
  return {
    users: users(),
    end: () => {
      if (!ended) throw new Error('the end of a window is known once its users have been read');
      return {
        nextPage: read.page + read.concurrency,
        afterPk: last,
        done: !lastResponse || lastResponse.pagination.next === 0,
        shifted: false,
        lastPageFirstPk,
        count,
        totalPages,
        requests,
      };
    },
  };
}
