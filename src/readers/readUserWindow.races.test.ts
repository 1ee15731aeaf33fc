import { AuthentikApi, ListUsersRequest } from '../client/AuthentikClient';
import { FakeAuthentik } from '../__testUtils__/fakeAuthentik';
import { aUser } from '../__testUtils__/fixtures';
import { readUserWindow } from './readUserWindow';

/**
 * Pages of one window are in flight together, and authentik may answer them in any order.
 * Here the LAST page of a window is answered before a deletion and a creation (count
 * unchanged), an earlier page after them: a user slides unseen across a boundary inside
 * the window. The next window's anchor check must send the walk back over that window.
 */
class ReorderingAuthentik implements AuthentikApi {
  private held?: () => void;

  constructor(
    readonly fake: FakeAuthentik,
    /** The request page answered only after `mutate`, once `answerFirst` has been answered. */
    private readonly late: { page: number; answerFirst: number; mutate: () => void; armed: boolean },
  ) {}

  async listUsers(request: ListUsersRequest) {
    const { late } = this;
    if (late.armed && request.page === late.page) {
      await new Promise<void>(resolve => (this.held = resolve));
    }
    const result = await this.fake.listUsers(request);
    if (late.armed && request.page === late.answerFirst) {
      late.armed = false;
      late.mutate();
      this.held?.();
    }
    return result;
  }

  listGroups: AuthentikApi['listGroups'] = r => this.fake.listGroups(r);
  getUser: AuthentikApi['getUser'] = pk => this.fake.getUser(pk);
  getGroup: AuthentikApi['getGroup'] = pk => this.fake.getGroup(pk);
}

/** The provider's loop: windows, the anchor check, and the re-read of a shifted window. */
async function walk(api: AuthentikApi, recheck: boolean): Promise<number[]> {
  const seen = new Set<number>();
  let cursor = { page: 1, afterPk: 0, anchorFirstPk: undefined as number | undefined, previous: undefined as { page: number; afterPk: number } | undefined };
  for (let i = 0; i < 100; i++) {
    const window = await readUserWindow(api, {
      page: cursor.page,
      afterPk: cursor.afterPk,
      pageSize: 5,
      concurrency: 3,
      activeOnly: true,
      anchorFirstPk: recheck ? cursor.anchorFirstPk : undefined,
    });
    if (window.shifted && cursor.previous) {
      cursor = { ...cursor.previous, anchorFirstPk: undefined, previous: undefined };
      continue;
    }
    for (const user of window.users) seen.add(user.pk);
    if (window.done) return [...seen].sort((a, b) => a - b);
    const moved = window.nextPage > cursor.page;
    cursor = {
      page: window.nextPage,
      afterPk: window.afterPk,
      anchorFirstPk: moved ? window.lastPageFirstPk : undefined,
      previous: moved ? { page: cursor.page, afterPk: cursor.afterPk } : undefined,
    };
  }
  throw new Error('the walk does not end');
}

function scenario() {
  const fake = new FakeAuthentik({ users: Array.from({ length: 40 }, (_, i) => aUser({ pk: i + 1 })) });
  // Window 1 reads pages 1–3. Page 3 is answered first; then user 2 is deleted and user 100
  // created (the count stays 40); then page 2 is answered, already shifted: the first user
  // of page 2 slides into page 1, which was read before the change.
  const api = new ReorderingAuthentik(fake, {
    page: 2,
    answerFirst: 3,
    armed: true,
    mutate: () => {
      fake.deleteUsers([2]);
      fake.users.push(aUser({ pk: 100 }));
    },
  });
  return { fake, api };
}

describe('readUserWindow under concurrent changes', () => {
  it('re-reads a window whose pages straddled a change, so no live user is missed', async () => {
    const { fake, api } = scenario();
    const seen = await walk(api, true);
    expect(fake.userPks().filter(pk => !seen.includes(pk))).toEqual([]);
  });

  it('(control) without the anchor re-check the same walk misses a user', async () => {
    const { fake, api } = scenario();
    const seen = await walk(api, false);
    expect(fake.userPks().filter(pk => !seen.includes(pk))).toHaveLength(1);
  });
});
