import { stringifyEntityRef } from '@backstage/catalog-model';
import { mockServices } from '@backstage/backend-test-utils';
import { AuthentikApi } from '../client/AuthentikClient';
import { MemoryAuthentik } from '../__testUtils__/MemoryAuthentik';
import { MemoryCatalog } from '../__testUtils__/MemoryCatalog';
import { testInstanceConfig, walkAll } from '../__testUtils__/walk';
import { SweepRecheck, SweepRecheckOptions } from './SweepRecheck';

const config = testInstanceConfig();

/** A directory, the catalog a first walk left, and a recheck whose "swept" refs are the catalog's users not in `unmarked`. */
async function world() {
  const dir = new MemoryAuthentik();
  const team = dir.addGroup({ name: 'Team' });
  for (const username of ['alice', 'bob', 'carol', 'dave', 'erin']) team.users.push(dir.addUser({ username }).pk);
  const catalog = new MemoryCatalog();
  catalog.replaceAll(await walkAll(dir, config));
  const reads: string[] = [];
  const api: AuthentikApi = {
    listUsers: r => dir.listUsers(r),
    listGroups: r => dir.listGroups(r),
    getUser: pk => (reads.push(pk), dir.getUser(pk)),
    getGroup: pk => dir.getGroup(pk),
  };
  const sweptRefs = async (unmarked: ReadonlySet<string>) =>
    [...catalog.entities.keys()].filter(ref => ref.startsWith('user:') && !unmarked.has(ref));
  const recheck = (overrides: Partial<SweepRecheckOptions> = {}) =>
    new SweepRecheck({
      api,
      sweptRefs,
      lookup: async refs => refs.map(ref => catalog.entities.get(ref)),
      mapping: { includeServiceAccounts: false },
      concurrency: 2,
      ...overrides,
    });
  return { dir, catalog, api, reads, recheck };
}

describe('SweepRecheck', () => {
  it('keeps the users authentik still holds; deleted, deactivated and service accounts go', async () => {
    const { dir, reads, recheck } = await world();
    dir.deleteUser(2); // bob
    dir.users.get(3)!.is_active = false; // carol
    dir.users.get(4)!.type = 'service_account'; // dave
    const result = await recheck().check(new Set(['user:default/alice']));
    expect(result.live.map(user => user.username)).toEqual(['erin']);
    expect(result).toMatchObject({ confirmedGone: 3, unchecked: 0 });
    expect(reads.sort()).toEqual(['2', '3', '4', '5']);
  });

  it('reads nothing for refs the catalog no longer holds (a delta removed them already)', async () => {
    const { catalog, reads, recheck } = await world();
    for (const name of ['bob', 'carol', 'dave', 'erin']) catalog.entities.delete(`user:default/${name}`);
    const sweptAnyway = recheck({ sweptRefs: async () => ['user:default/bob', 'user:default/carol'] });
    expect((await sweptAnyway.check(new Set())).live).toEqual([]);
    expect(reads).toEqual([]);
  });

  it('reads at most maxUsers users again and says how many it did not', async () => {
    const { reads, recheck } = await world();
    const result = await recheck({ maxUsers: 2 }).check(new Set(['user:default/alice']));
    expect(reads).toHaveLength(2);
    expect(result).toMatchObject({ unchecked: 2 });
  });

  it('fails when authentik cannot be read: nothing is removed on a guess', async () => {
    const { api, recheck } = await world();
    api.getUser = async () => {
      throw new Error('authentik is down');
    };
    await expect(recheck().check(new Set())).rejects.toThrow('authentik is down');
  });
});

describe('AuthentikEntityProvider with a SweepRecheck', () => {
  it('puts a user its list hid in the final batch, named and grouped as the walk would', async () => {
    const { dir, catalog, api, recheck } = await world();
    // The race: the user list loses carol (a deletion and a creation shifted it) while
    // authentik still holds her.
    const hidden: AuthentikApi = {
      ...api,
      listUsers: async request => {
        const page = await dir.listUsers(request);
        return page && { ...page, results: page.results.filter(user => user.username !== 'carol') };
      },
    };
    const logger = mockServices.logger.mock();
    const emitted = await walkAll(hidden, config, undefined, { logger, sweepRecheck: recheck() });
    const carol = emitted.find(e => e.metadata.name === 'carol');
    expect(carol).toEqual(catalog.entities.get('user:default/carol'));
    expect(emitted.map(stringifyEntityRef).sort()).toEqual([...catalog.entities.keys()].sort());
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/did not see 1 user\(s\) that authentik still holds .*: 3; kept/));
  });
});
