import fc from 'fast-check';
import { FakeAuthentik } from '../__testUtils__/fakeAuthentik';
import { aGroup, aUser, groupUuid } from '../__testUtils__/fixtures';
import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikResponseError } from '../client/errors';
import { readAllGroups } from './readAllGroups';
import { readUserWindow, UserWindow } from './readUserWindow';

const usersUpTo = (n: number, from = 1) => Array.from({ length: n - from + 1 }, (_, i) => aUser({ pk: from + i }));

interface WalkOptions {
  pageSize: number;
  concurrency: number;
  /** Changes the directory between two windows (not called after the last one). */
  between?: (api: FakeAuthentik, state: { window: number; afterPk: number; page: number }) => void;
}

/** A full walk the way the provider drives it: window after window until `done`. */
async function walk(api: FakeAuthentik, { pageSize, concurrency, between }: WalkOptions) {
  let page = 1;
  let afterPk = 0;
  const seen: number[] = [];
  const windows: UserWindow[] = [];
  for (;;) {
    const window = await readUserWindow(api, { page, afterPk, pageSize, concurrency, activeOnly: true });
    windows.push(window);
    seen.push(...window.users.map(u => u.pk));
    if (window.done) return { seen, windows };
    page = window.nextPage;
    afterPk = window.afterPk;
    between?.(api, { window: windows.length, afterPk, page });
    if (windows.length > 1000) throw new Error('the walk does not end');
  }
}

/**
 * Nothing missed, nothing twice: the walk emitted, in pk order, every user live at its
 * end (all of them were live throughout, or created during the walk), and only users
 * that existed.
 */
function expectCompleteWalk(seen: number[], api: FakeAuthentik, everExisted: Set<number>): void {
  expect(seen).toEqual([...seen].sort((a, b) => a - b));
  expect(new Set(seen).size).toBe(seen.length);
  const seenSet = new Set(seen);
  expect(api.userPks().filter(pk => !seenSet.has(pk))).toEqual([]);
  for (const pk of seen) expect(everExisted.has(pk)).toBe(true);
}

/** Page sizes asked for, the server's cap, and pages per window. */
const SHAPES: Array<[string, { pageSize: number; concurrency: number; cap?: number }]> = [
  ['page 5, one page per window', { pageSize: 5, concurrency: 1 }],
  ['page 5, three pages per window', { pageSize: 5, concurrency: 3 }],
  ['asks 10, server caps at 4, two pages per window', { pageSize: 10, concurrency: 2, cap: 4 }],
  ['page 1', { pageSize: 1, concurrency: 2 }],
];

function directory(n: number, cap?: number): { api: FakeAuthentik; everExisted: Set<number> } {
  const api = new FakeAuthentik({ users: usersUpTo(n) });
  if (cap) api.maxPageSize = cap;
  return { api, everExisted: new Set(api.userPks()) };
}

describe('readUserWindow: full walks', () => {
  describe.each(SHAPES)('%s', (_label, { pageSize, concurrency, cap }) => {
    it.each([0, 1, 4, 5, 10, 23, 60])('a quiet directory of %d users: every user exactly once', async n => {
      const { api, everExisted } = directory(n, cap);
      const { seen } = await walk(api, { pageSize, concurrency });
      expect(seen).toEqual(api.userPks());
      expectCompleteWalk(seen, api, everExisted);
    });

    it('deleting one user before the current position after every window misses no live user', async () => {
      const { api, everExisted } = directory(40, cap);
      const { seen } = await walk(api, {
        pageSize,
        concurrency,
        between: (dir, { afterPk }) => {
          const before = dir.userPks().filter(pk => pk <= afterPk);
          if (before.length > 0) dir.deleteUsers([before[Math.floor(before.length / 2)]]);
        },
      });
      expectCompleteWalk(seen, api, everExisted);
      expect(api.userPks().length).toBeLessThan(40);
    });

    it('deleting more than a page of users before the position misses no live user', async () => {
      const { api, everExisted } = directory(60, cap);
      const page = Math.min(pageSize, cap ?? pageSize);
      const { seen } = await walk(api, {
        pageSize,
        concurrency,
        between: (dir, { window, afterPk }) => {
          if (window % 2 === 1) dir.deleteUsers(dir.userPks().filter(pk => pk <= afterPk).slice(0, page + 2));
        },
      });
      expectCompleteWalk(seen, api, everExisted);
    });

    it('deleting every user before the position misses no live user', async () => {
      const { api, everExisted } = directory(45, cap);
      const { seen } = await walk(api, {
        pageSize,
        concurrency,
        between: (dir, { window, afterPk }) => {
          if (window === 3) dir.deleteUsers(dir.userPks().filter(pk => pk <= afterPk));
        },
      });
      expectCompleteWalk(seen, api, everExisted);
      expect(seen.length).toBe(45);
    });

    it('deactivating users before the position is like deleting them (activeOnly)', async () => {
      const { api, everExisted } = directory(40, cap);
      const { seen } = await walk(api, {
        pageSize,
        concurrency,
        between: (dir, { afterPk }) => {
          for (const user of dir.users.filter(u => u.pk <= afterPk && u.is_active).slice(0, 3)) user.is_active = false;
        },
      });
      expectCompleteWalk(seen, api, everExisted);
      expect(api.calls.every(call => call.activeOnly === true)).toBe(true);
    });

    it('users deleted ahead of the position are simply not emitted', async () => {
      const { api, everExisted } = directory(40, cap);
      const deleted: number[] = [];
      const { seen } = await walk(api, {
        pageSize,
        concurrency,
        between: (dir, { afterPk }) => {
          const ahead = dir.userPks().filter(pk => pk > afterPk + 2).slice(0, 2);
          deleted.push(...ahead);
          dir.deleteUsers(ahead);
        },
      });
      expectCompleteWalk(seen, api, everExisted);
      for (const pk of deleted) expect(seen).not.toContain(pk);
    });

    it('users created during the walk are emitted too', async () => {
      const { api, everExisted } = directory(20, cap);
      let nextPk = 1000;
      const created: number[] = [];
      const { seen } = await walk(api, {
        pageSize,
        concurrency,
        between: (dir, { window }) => {
          if (window > 12) return;
          const user = aUser({ pk: nextPk++ });
          dir.users.push(user);
          created.push(user.pk);
          everExisted.add(user.pk);
        },
      });
      expectCompleteWalk(seen, api, everExisted);
      expect(seen).toEqual(expect.arrayContaining(created));
    });

    it('deletions before and creations after the position in the same interval', async () => {
      const { api, everExisted } = directory(50, cap);
      let nextPk = 500;
      const { seen } = await walk(api, {
        pageSize,
        concurrency,
        between: (dir, { window, afterPk }) => {
          dir.deleteUsers(dir.userPks().filter(pk => pk <= afterPk).slice(0, window % 3 === 0 ? 7 : 1));
          if (window < 10) {
            dir.users.push(aUser({ pk: nextPk }));
            everExisted.add(nextPk++);
          }
        },
      });
      expectCompleteWalk(seen, api, everExisted);
    });
  });

  it('property: any interleaving of deletions, deactivations and creations misses no live user', async () => {
    const change = fc.record({
      deleteBefore: fc.nat({ max: 12 }),
      deleteAhead: fc.nat({ max: 3 }),
      deactivateBefore: fc.nat({ max: 3 }),
      create: fc.nat({ max: 3 }),
      pick: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 4 }),
        fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
        fc.array(change, { maxLength: 40 }),
        async (n, pageSize, concurrency, cap, changes) => {
          const { api, everExisted } = directory(n, cap);
          let nextPk = 10_000;
          await expect(
            walk(api, {
              pageSize,
              concurrency,
              between: (dir, { window, afterPk }) => {
                const c = changes[window - 1];
                if (!c) return;
                const before = dir.userPks().filter(pk => pk <= afterPk);
                const start = before.length ? c.pick % before.length : 0;
                dir.deleteUsers(before.slice(start, start + c.deleteBefore));
                dir.deleteUsers(dir.userPks().filter(pk => pk > afterPk).slice(1, 1 + c.deleteAhead));
                for (const user of dir.users.filter(u => u.pk <= afterPk && u.is_active).slice(0, c.deactivateBefore)) {
                  user.is_active = false;
                }
                for (let i = 0; i < c.create; i++) {
                  dir.users.push(aUser({ pk: nextPk }));
                  everExisted.add(nextPk++);
                }
              },
            }).then(({ seen }) => expectCompleteWalk(seen, api, everExisted)),
          ).resolves.toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('readUserWindow: one window', () => {
  it('the first window has no anchor page; later windows re-read the page before them', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(30) });
    const first = await readUserWindow(api, { page: 1, afterPk: 0, pageSize: 5, concurrency: 2, activeOnly: true });
    expect(api.calls.map(c => c.page)).toEqual([1, 2]);
    expect(first).toMatchObject({ nextPage: 3, afterPk: 10, done: false, count: 30, totalPages: 6, requests: 2 });
    expect(first.users.map(u => u.pk)).toEqual(usersUpTo(10).map(u => u.pk));
    const second = await readUserWindow(api, { page: 3, afterPk: 10, pageSize: 5, concurrency: 2, activeOnly: true });
    expect(api.calls.slice(2).map(c => c.page)).toEqual([2, 3, 4]);
    expect(second).toMatchObject({ nextPage: 5, afterPk: 20, done: false, requests: 3 });
    expect(second.users.map(u => u.pk)).toEqual(usersUpTo(20, 11).map(u => u.pk));
  });

  it('passes the filters, page size and signal to every request', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(12) });
    const signal = new AbortController().signal;
    await readUserWindow(api, {
      page: 2,
      afterPk: 5,
      pageSize: 5,
      concurrency: 2,
      activeOnly: true,
      types: ['internal', 'external'],
      signal,
    });
    expect(api.calls).toHaveLength(3);
    for (const call of api.calls) {
      expect(call).toMatchObject({ kind: 'users', pageSize: 5, activeOnly: true, types: ['internal', 'external'], signal });
    }
  });

  it('a user deleted before the position: the one that slid back is taken from the anchor page', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(20) });
    api.deleteUsers([3]); // after users 1..10 were emitted from pages 1 and 2
    const window = await readUserWindow(api, { page: 3, afterPk: 10, pageSize: 5, concurrency: 1, activeOnly: true });
    // Page 3 now holds users 12..16: user 11 slid into page 2, the anchor.
    expect(window.users.map(u => u.pk)).toEqual([11, 12, 13, 14, 15, 16]);
    expect(window).toMatchObject({ nextPage: 4, afterPk: 16, done: false });
  });

  it('more than a page deleted before the position: steps back one page without emitting', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(20) });
    api.deleteUsers([1, 2, 3, 4, 5, 6, 7]);
    const back = await readUserWindow(api, { page: 4, afterPk: 15, pageSize: 5, concurrency: 1, activeOnly: true });
    expect(back).toMatchObject({ users: [], nextPage: 3, afterPk: 15, done: false });
    const next = await readUserWindow(api, { page: 3, afterPk: 15, pageSize: 5, concurrency: 1, activeOnly: true });
    expect(next.users.map(u => u.pk)).toEqual([16, 17, 18, 19, 20]);
    expect(next.done).toBe(true);
  });

  it('an anchor page past the end (the list shrank a lot) also steps back', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(40) });
    api.deleteUsers(usersUpTo(30).map(u => u.pk));
    const back = await readUserWindow(api, { page: 7, afterPk: 30, pageSize: 5, concurrency: 1, activeOnly: true });
    expect(back).toMatchObject({ users: [], nextPage: 6, afterPk: 30, done: false });
  });

  it('done when the last page read has no next page, or is past the end', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(10) });
    const exact = await readUserWindow(api, { page: 2, afterPk: 5, pageSize: 5, concurrency: 1, activeOnly: true });
    expect(exact).toMatchObject({ done: true, afterPk: 10 });
    const beyond = await readUserWindow(api, { page: 2, afterPk: 5, pageSize: 5, concurrency: 3, activeOnly: true });
    expect(beyond.done).toBe(true);
    expect(beyond.users.map(u => u.pk)).toEqual([6, 7, 8, 9, 10]);
    const notYet = await readUserWindow(api, { page: 1, afterPk: 0, pageSize: 5, concurrency: 1, activeOnly: true });
    expect(notYet.done).toBe(false);
  });

  it('an empty directory is one empty, finished window', async () => {
    const api = new FakeAuthentik();
    const window = await readUserWindow(api, { page: 1, afterPk: 0, pageSize: 5, concurrency: 2, activeOnly: true });
    expect(window).toMatchObject({ users: [], done: true, count: 0, afterPk: 0 });
  });

  it('a window whose pages disagree on the count is read again', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(20) });
    let deleted = false;
    api.onList = call => {
      // During the first read of the window, between its anchor and its next page.
      if (call === 2 && !deleted) {
        deleted = true;
        api.deleteUsers([3]);
      }
    };
    const window = await readUserWindow(api, { page: 3, afterPk: 10, pageSize: 5, concurrency: 2, activeOnly: true });
    expect(window.requests).toBe(6);
    expect(api.calls.map(c => c.page)).toEqual([2, 3, 4, 2, 3, 4]);
    expect(window.users.map(u => u.pk)).toEqual(usersUpTo(20, 11).map(u => u.pk));
    expect(window.count).toBe(19);
  });

  it('a list that keeps changing while a window is read fails after `attempts` reads', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(20) });
    let nextPk = 100;
    api.onList = () => {
      api.users.push(aUser({ pk: nextPk++ }));
    };
    await expect(
      readUserWindow(api, { page: 2, afterPk: 5, pageSize: 5, concurrency: 2, activeOnly: true, attempts: 4 }),
    ).rejects.toThrow(/kept changing/);
    expect(api.calls).toHaveLength(4 * 3);
  });

  it.each([
    ['by username', (api: FakeAuthentik) => (api.userOrdering = 'username')],
  ])('results not ordered by pk (%s) → AuthentikResponseError', async (_label, disorder) => {
    const users = [
      aUser({ pk: 1, username: 'zoe' }),
      aUser({ pk: 2, username: 'adam' }),
      aUser({ pk: 3, username: 'mia' }),
      aUser({ pk: 4, username: 'bob' }),
    ];
    const api = new FakeAuthentik({ users });
    disorder(api);
    const error = await readUserWindow(api, { page: 1, afterPk: 0, pageSize: 2, concurrency: 2, activeOnly: true }).catch(
      e => e,
    );
    expect(error).toBeInstanceOf(AuthentikResponseError);
    expect((error as Error).message).toMatch(/not ordered by pk/);
  });

  it('a page boundary out of order (later page starts below the earlier one) → AuthentikResponseError', async () => {
    const api: AuthentikApi = {
      listUsers: async ({ page }) => ({
        pagination: { next: page === 1 ? 2 : 0, previous: 0, count: 4, current: page, total_pages: 2, start_index: 1, end_index: 2 },
        results: page === 1 ? [aUser({ pk: 5 }), aUser({ pk: 9 })] : [aUser({ pk: 7 }), aUser({ pk: 12 })],
      }),
      listGroups: async () => undefined,
      getUser: async () => undefined,
      getGroup: async () => undefined,
    };
    await expect(
      readUserWindow(api, { page: 1, afterPk: 0, pageSize: 2, concurrency: 2, activeOnly: true }),
    ).rejects.toBeInstanceOf(AuthentikResponseError);
  });
});

describe('readAllGroups', () => {
  const groupsUpTo = (n: number) => Array.from({ length: n }, (_, i) => aGroup({ num_pk: i + 1, name: `Group ${i + 1}` }));
  const keys = (groups: { pk: string }[]) => groups.map(g => g.pk).sort();

  it.each([
    [0, 5, 1, undefined],
    [1, 5, 1, undefined],
    [5, 5, 2, undefined],
    [23, 5, 1, undefined],
    [23, 5, 3, undefined],
    [23, 100, 4, 20],
    [41, 7, 8, undefined],
  ])('%d groups, page size %d, concurrency %d, cap %s: every group once', async (n, pageSize, concurrency, cap) => {
    const api = new FakeAuthentik({ groups: groupsUpTo(n) });
    if (cap) api.maxPageSize = cap;
    const groups = await readAllGroups(api, { pageSize, concurrency });
    expect(groups).toHaveLength(n);
    expect(keys(groups)).toEqual(keys(api.groups));
    // Two passes that must agree, so every page is read twice.
    const pages = Math.max(1, Math.ceil(n / Math.min(pageSize, cap ?? pageSize)));
    const once = Array.from({ length: pages }, (_, i) => i + 1);
    expect(api.calls.map(c => c.page).sort((a, b) => a - b)).toEqual([...once, ...once].sort((a, b) => a - b));
  });

  it('passes page size and signal', async () => {
    const api = new FakeAuthentik({ groups: groupsUpTo(12) });
    const signal = new AbortController().signal;
    await readAllGroups(api, { pageSize: 5, concurrency: 2, signal });
    for (const call of api.calls) expect(call).toMatchObject({ kind: 'groups', pageSize: 5, signal });
  });

  it('no first page ("past the end") is an error, never "no groups"', async () => {
    const api = new FakeAuthentik();
    api.listGroups = async () => undefined;
    await expect(readAllGroups(api, { pageSize: 5, concurrency: 2 })).rejects.toThrow(/first page of groups/);
  });

  it('a middle page answered "past the end" while total_pages says it exists is a hole: never accepted', async () => {
    const api = new FakeAuthentik({ groups: groupsUpTo(23) });
    const list = api.listGroups.bind(api);
    api.listGroups = async request => (request.page === 3 ? undefined : list(request));
    await expect(readAllGroups(api, { pageSize: 5, concurrency: 2 })).rejects.toThrow(/kept changing/);
  });

  it('re-reads when a group is created while the pages are read', async () => {
    const api = new FakeAuthentik({ groups: groupsUpTo(23) });
    api.onList = call => {
      if (call === 2) api.groups.push(aGroup({ num_pk: 99, pk: '00000000-0000-4000-8000-000000000000', name: 'New' }));
    };
    const groups = await readAllGroups(api, { pageSize: 5, concurrency: 1 });
    expect(keys(groups)).toEqual(keys(api.groups));
    expect(groups).toHaveLength(24);
    expect(api.calls.filter(c => c.page === 1)).toHaveLength(3);
  });

  it('re-reads when a group is deleted while the pages are read (nothing missed, nothing stale)', async () => {
    const api = new FakeAuthentik({ groups: groupsUpTo(23) });
    const sortedPks = keys(api.groups);
    api.onList = call => {
      if (call === 3) api.groups = api.groups.filter(g => g.pk !== sortedPks[0]);
    };
    const groups = await readAllGroups(api, { pageSize: 5, concurrency: 2 });
    expect(keys(groups)).toEqual(sortedPks.slice(1));
    expect(api.calls.filter(c => c.page === 1)).toHaveLength(3);
  });

  it('is not fooled by a creation and a deletion that leave the count unchanged', async () => {
    const api = new FakeAuthentik({ groups: groupsUpTo(10) });
    const sortedPks = keys(api.groups);
    api.onList = call => {
      if (call === 1) {
        api.groups = api.groups.filter(g => g.pk !== sortedPks[1]);
        api.groups.push(aGroup({ num_pk: 99, pk: 'ffffffff-ffff-4fff-8fff-ffffffffffff', name: 'New' }));
      }
    };
    const groups = await readAllGroups(api, { pageSize: 5, concurrency: 1 });
    expect(keys(groups)).toEqual(keys(api.groups));
  });

  it('asks for every page of the second pass at once (their number is known from the first)', async () => {
    const api = new FakeAuthentik({ groups: groupsUpTo(23) }); // 5 pages of 5
    let inFlight = 0;
    const seen: number[] = [];
    const list = api.listGroups.bind(api);
    api.listGroups = async request => {
      inFlight += 1;
      seen.push(inFlight);
      await new Promise(resolve => setTimeout(resolve, 1));
      inFlight -= 1;
      return list(request);
    };
    await readAllGroups(api, { pageSize: 5, concurrency: 8 });
    // Pass 1: page 1 alone, then pages 2-5 together. Pass 2: pages 1-5 together.
    expect(seen).toEqual([1, 1, 2, 3, 4, 1, 2, 3, 4, 5]);
  });

  it('a pass that finds another number of pages than the pass before is read again', async () => {
    const api = new FakeAuthentik({ groups: groupsUpTo(25) }); // 5 pages of 5
    let pageOnes = 0;
    api.onList = () => undefined;
    const list = api.listGroups.bind(api);
    api.listGroups = async request => {
      if (request.page === 1 && ++pageOnes === 2) api.groups.push(aGroup({ num_pk: 99, pk: groupUuid(99), name: 'New' }));
      return list(request);
    };
    const groups = await readAllGroups(api, { pageSize: 5, concurrency: 8 });
    expect(groups).toHaveLength(26);
    expect(keys(groups)).toEqual(keys(api.groups));
  });

  it('a list that keeps changing fails after `attempts` passes', async () => {
    const api = new FakeAuthentik({ groups: groupsUpTo(12) });
    let n = 1000;
    api.onList = () => {
      api.groups.push(aGroup({ num_pk: n, pk: groupUuid(n++) }));
    };
    await expect(readAllGroups(api, { pageSize: 5, concurrency: 2, attempts: 2 })).rejects.toThrow(/kept changing/);
    expect(api.calls.filter(c => c.page === 1)).toHaveLength(2);
  });

  it('duplicates across pages (dashed and undashed pk) are one group, and such a pass is re-read', async () => {
    const groups = groupsUpTo(4);
    let pass = 0;
    const api = new FakeAuthentik();
    api.listGroups = async ({ page }) => {
      if (page === 1) pass++;
      // First pass: page 2 repeats a group of page 1 (undashed) instead of its own.
      const second = pass === 1 ? [{ ...groups[0], pk: groups[0].pk.replace(/-/g, '') }, groups[3]] : groups.slice(2);
      return {
        pagination: { next: page === 1 ? 2 : 0, previous: 0, count: 4, current: page, total_pages: 2, start_index: 1, end_index: 2 },
        results: page === 1 ? groups.slice(0, 2) : second,
      };
    };
    const result = await readAllGroups(api, { pageSize: 2, concurrency: 1 });
    expect(keys(result)).toEqual(keys(groups));
    expect(pass).toBe(3);
  });
});

describe('readUserWindow: a page not read is a hole, never the end', () => {
  /** Answers "past the end" for these pages; returns how often each was asked. */
  const holeAt = (api: FakeAuthentik, holes: Set<number>) => {
    const list = api.listUsers.bind(api);
    const asked = new Map<number, number>();
    api.listUsers = async request => {
      asked.set(request.page, (asked.get(request.page) ?? 0) + 1);
      return holes.has(request.page) ? undefined : list(request);
    };
    return asked;
  };

  it.each([
    ['a middle page of a window', 1, 3, 2],
    ['the last page of a window', 1, 3, 3],
    ['the anchor page', 4, 2, 3],
  ])('%s "past the end" while total_pages says it exists → read again, then an error', async (_label, page, concurrency, hole) => {
    const api = new FakeAuthentik({ users: usersUpTo(40) });
    const asked = holeAt(api, new Set([hole]));
    const afterPk = (page - 1) * 5;
    await expect(
      readUserWindow(api, { page, afterPk, pageSize: 5, concurrency, activeOnly: true, anchorFirstPk: page > 1 ? afterPk - 4 : undefined }),
    ).rejects.toThrow(/kept changing \(or had pages missing\)/);
    expect(asked.get(hole)).toBe(3);
  });

  it('a hole that clears on the re-read is read normally', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(40) });
    const list = api.listUsers.bind(api);
    let holes = 1;
    api.listUsers = async request => (request.page === 2 && holes-- > 0 ? undefined : list(request));
    const window = await readUserWindow(api, { page: 1, afterPk: 0, pageSize: 5, concurrency: 3, activeOnly: true });
    expect(window.users.map(u => u.pk)).toEqual(usersUpTo(15).map(u => u.pk));
  });

  it('no first page is an error, never an empty directory', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(3) });
    api.listUsers = async () => undefined;
    await expect(readUserWindow(api, { page: 1, afterPk: 0, pageSize: 5, concurrency: 2, activeOnly: true })).rejects.toThrow(
      /first page of users/,
    );
  });

  it('pages past the announced end are the end (the walk is done)', async () => {
    const api = new FakeAuthentik({ users: usersUpTo(7) });
    const window = await readUserWindow(api, { page: 1, afterPk: 0, pageSize: 5, concurrency: 4, activeOnly: true });
    expect(window.done).toBe(true);
    expect(window.users).toHaveLength(7);
  });
});
