import { AuthentikApi, ListUsersRequest } from '../client/AuthentikClient';
import { AuthentikPage, AuthentikUser } from '../client/schemas';
import { aUser } from '../__testUtils__/fixtures';
import { readRecentUsers } from './readRecentUsers';

const AFTER = Date.parse('2026-01-01T00:00:00Z');

/** A list of `total` users (pk 1..total), all with this `last_updated`, ignoring every filter. */
function listing(total: number, lastUpdated: string | undefined, pageSize = 10) {
  const calls: ListUsersRequest[] = [];
  const api: AuthentikApi = {
    listUsers: async request => {
      calls.push(request);
      const all = Array.from({ length: total }, (_, i) => aUser({ pk: i + 1, last_updated: lastUpdated }));
      const results = all.slice((request.page - 1) * pageSize, request.page * pageSize);
      const pages = Math.max(1, Math.ceil(total / pageSize));
      const page: AuthentikPage<AuthentikUser> = {
        pagination: { next: request.page < pages ? request.page + 1 : 0, previous: 0, count: total, current: request.page, total_pages: pages, start_index: 0, end_index: 0 },
        results,
      };
      return request.page > pages ? undefined : page;
    },
    listGroups: async () => undefined,
    getUser: async () => undefined,
    getGroup: async () => undefined,
  };
  return { api, calls };
}

const request = (wanted: number[], worthReading = async () => true) => ({
  after: AFTER,
  wanted: new Set(wanted.map(String)),
  pageSize: 10,
  concurrency: 2,
  worthReading,
});

describe('readRecentUsers', () => {
  it('asks for users saved after the time, unfiltered by activity or type, and keeps the wanted ones', async () => {
    const { api, calls } = listing(35, '2026-01-01T00:00:00.000500Z'); // within the same millisecond: still after
    const recent = await readRecentUsers(api, request([2, 17, 33, 99]));
    expect([...recent.found.keys()].sort()).toEqual(['17', '2', '33']);
    expect(recent).toMatchObject({ filtered: true, requests: 4 });
    expect(calls[0]).toMatchObject({ page: 1, lastUpdatedAfter: new Date(AFTER) });
    expect(calls[0].activeOnly).toBeUndefined();
    expect(calls[0].types).toBeUndefined();
  });

  it.each([
    ['no last_updated (before 2025.8)', undefined],
    ['an earlier last_updated', '2025-12-31T23:59:59Z'],
    ['an unparsable last_updated', 'yesterday'],
  ])('stops after the first page when users show %s: the filter was ignored', async (_, lastUpdated) => {
    const { api, calls } = listing(100, lastUpdated);
    const recent = await readRecentUsers(api, request([3, 50]));
    expect(recent.filtered).toBe(false);
    expect(calls).toHaveLength(1);
    expect([...recent.found.keys()]).toEqual(['3']); // what was read is still a read
  });

  it('reads no further when every wanted user was found, or when more pages are not worth it', async () => {
    const found = listing(100, '2026-01-02T00:00:00Z');
    expect((await readRecentUsers(found.api, request([1, 2]))).requests).toBe(1);
    const dear = listing(100, '2026-01-02T00:00:00Z');
    const worthReading = jest.fn(async () => false);
    await readRecentUsers(dear.api, request([1, 50], worthReading));
    expect(worthReading).toHaveBeenCalledWith(9, 1);
    expect(dear.calls).toHaveLength(1);
  });
});
