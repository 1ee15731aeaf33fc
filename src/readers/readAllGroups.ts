import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikResponseError } from '../client/errors';
import { AuthentikGroup, normalizeGroupPk } from '../client/schemas';
import { mapConcurrent } from '../util/mapConcurrent';
import { RequestSlots } from '../util/RequestSlots';

export interface ReadAllGroupsOptions {
  pageSize: number;
  concurrency: number;
  signal?: AbortSignal;
  /** Passes before giving up on a list that keeps changing. Default 4. */
  attempts?: number;
  /** Shares a limit on requests in flight with other reads (the walk's first window of users). */
  slots?: RequestSlots;
}

/**
 * Every group of the directory (without members), read page by page with bounded
 * concurrency.
 *
 * Group pages are ordered by UUID, so a group created or deleted during a read shifts the
 * pages and can hide another group; a creation and a deletion together even leave the
 * count unchanged. So the list is read twice in a row (groups are few: this is a handful of
 * requests) and accepted only when both passes saw the same, self-consistent set.
 */
export async function readAllGroups(api: AuthentikApi, options: ReadAllGroupsOptions): Promise<AuthentikGroup[]> {
  const attempts = options.attempts ?? 4;
  let previous = await readOnce(api, options);
  for (let attempt = 2; attempt <= attempts; attempt++) {
    const current = await readOnce(api, options, previous.totalPages);
    if (previous.consistent && current.consistent && sameKeys(previous.groups, current.groups)) {
      return [...current.groups.values()];
    }
    previous = current;
  }
  throw new Error(`authentik's group list kept changing while it was read (${attempts} passes); will retry`);
}

interface Pass {
  groups: Map<string, AuthentikGroup>;
  /**
   * Every page from 1 to the announced total_pages was read (none past the end), all agreed
   * on the count, and they held exactly that many distinct groups.
   */
  consistent: boolean;
  totalPages: number;
}

/**
 * One pass over the list. With the page count of the pass before (`knownTotalPages`), every
 * page is requested at once; a pass whose count of pages differs is not consistent.
 */
async function readOnce(api: AuthentikApi, options: ReadAllGroupsOptions, knownTotalPages?: number): Promise<Pass> {
  const read = (page: number) => {
    const call = () => api.listGroups({ page, pageSize: options.pageSize, signal: options.signal });
    return options.slots ? options.slots.run(call) : call();
  };
  const known = knownTotalPages ? Array.from({ length: knownTotalPages - 1 }, (_, i) => i + 2) : [];
  const [first, ...early] = await mapConcurrent([1, ...known], options.concurrency, read);
  if (!first) {
    // DRF always serves page 1, empty or not: "past the end" here is no answer about groups.
    throw new AuthentikResponseError(
      'GET /api/v3/core/groups/?page=1',
      404,
      'authentik called the first page of groups past the end; nothing can be concluded from that',
    );
  }
  const totalPages = first.pagination.total_pages;
  const rest = knownTotalPages
    ? early
    : await mapConcurrent(Array.from({ length: Math.max(0, totalPages - 1) }, (_, i) => i + 2), options.concurrency, read);
  const pages = [first, ...rest];
  const count = first.pagination.count;
  const groups = new Map<string, AuthentikGroup>();
  for (const page of pages) {
    for (const group of page?.results ?? []) groups.set(normalizeGroupPk(group.pk), group);
  }
  const consistent =
    (knownTotalPages === undefined || knownTotalPages === Math.max(1, totalPages)) &&
    pages.every(page => page && page.pagination.count === count) &&
    groups.size === count;
  return { groups, consistent, totalPages: Math.max(1, totalPages) };
}

function sameKeys(a: Map<string, AuthentikGroup>, b: Map<string, AuthentikGroup>): boolean {
  return a.size === b.size && [...a.keys()].every(key => b.has(key));
}
