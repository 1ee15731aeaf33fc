import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikGroup, normalizeGroupPk } from '../client/schemas';
import { mapConcurrent } from '../util/mapConcurrent';

export interface ReadAllGroupsOptions {
  pageSize: number;
  concurrency: number;
  signal?: AbortSignal;
  /** Re-reads when the list changed while it was read. Default 3. */
  attempts?: number;
}

/**
 * Every group of the directory (without members), read page by page with bounded
 * concurrency. Group pages are ordered by UUID, so a group created or deleted while they
 * are read shifts the pages: the read is repeated until one pass saw a stable count and
 * exactly that many distinct groups.
 */
export async function readAllGroups(api: AuthentikApi, options: ReadAllGroupsOptions): Promise<AuthentikGroup[]> {
  const attempts = options.attempts ?? 3;
  let problem = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const first = await api.listGroups({ page: 1, pageSize: options.pageSize, signal: options.signal });
    if (!first) {
      return [];
    }
    const rest = Array.from({ length: Math.max(0, first.pagination.total_pages - 1) }, (_, i) => i + 2);
    const pages = await mapConcurrent(rest, options.concurrency, page =>
      api.listGroups({ page, pageSize: options.pageSize, signal: options.signal }),
    );
    const all = [first, ...pages];
    const count = first.pagination.count;
    const byKey = new Map<string, AuthentikGroup>();
    for (const page of all) {
      for (const group of page?.results ?? []) byKey.set(normalizeGroupPk(group.pk), group);
    }
    const stable = all.every(page => page && page.pagination.count === count);
    if (stable && byKey.size === count) {
      return [...byKey.values()];
    }
    problem = `listed ${byKey.size} distinct groups of ${count}`;
  }
  throw new Error(`authentik's group list kept changing while it was read (${problem}); will retry`);
}
