import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { normalizeGroupPk } from '../client/schemas';
import { MemoryAuthentik } from '../__testUtils__/MemoryAuthentik';
import { MemoryCatalog } from '../__testUtils__/MemoryCatalog';
import { testInstanceConfig, walkAll } from '../__testUtils__/walk';
import { ANNOTATION_USER_PK } from '../mapping/types';
import { DeltaPlanner } from './DeltaPlanner';
import { RecentDeltasView, RecentDeltasViewOptions } from './RecentDeltasView';

const config = testInstanceConfig();
const mapping = { instanceId: config.id, baseUrl: config.baseUrl, excludeGroups: [], includeServiceAccounts: false };
const MINUTE = 60_000;

function user(name: string, pk: string, memberOf: string[] = []): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, annotations: { [ANNOTATION_USER_PK]: pk } },
    spec: { memberOf },
  };
}

/** A catalog that shows a delta only when told to (`process`), like one that is minutes behind. */
function laggingCatalog() {
  const catalog = new MemoryCatalog();
  let clock = 0;
  const options: RecentDeltasViewOptions = {
    lookup: async refs => refs.map(ref => catalog.entities.get(ref)),
    now: () => clock,
  };
  return { catalog, options, advance: (ms: number) => (clock += ms), now: () => clock };
}

/** Lets background lookups finish. */
const flush = () => new Promise(resolve => setImmediate(resolve));

describe('RecentDeltasView', () => {
  it('answers with a delta until the catalog shows it, however long that takes', async () => {
    const { catalog, options, advance } = laggingCatalog();
    catalog.replaceAll([user('jane', '1', ['old-team'])]);
    const view = new RecentDeltasView(catalog, options);
    view.record([user('jane', '1', ['new-team'])], []);

    advance(10 * MINUTE); // the old fixed 2 minutes are long gone
    await view.settle();
    expect(await view.usersInGroup('new-team')).toEqual([{ name: 'jane', pk: '1' }]);
    expect(await view.usersInGroup('old-team')).toEqual([]);

    catalog.replaceAll([user('jane', '1', ['new-team'])]); // processed at last
    advance(6_000);
    await view.settle();
    expect(view.pending).toBe(0);
  });

  it('forgets a removal once the catalog no longer holds the entity, and a rename once it holds the new name', async () => {
    const { catalog, options, advance } = laggingCatalog();
    catalog.replaceAll([user('jane', '1'), user('john', '2')]);
    const view = new RecentDeltasView(catalog, options);
    view.record([user('jane-doe', '1')], [
      { kind: 'User', name: 'jane', pk: '1' },
      { kind: 'User', name: 'john', pk: '2' },
    ]);
    advance(MINUTE);
    await view.settle();
    expect(await view.userByName('jane')).toBeUndefined();
    expect(await view.userByPk('2')).toBeUndefined();
    expect(view.pending).toBe(2);

    catalog.entities.delete('user:default/jane');
    catalog.entities.set('user:default/jane-doe', user('jane-doe', '1'));
    advance(6_000);
    await view.settle();
    expect(view.pending).toBe(1); // john is still in the catalog
    catalog.entities.delete('user:default/john');
    advance(6_000);
    await view.settle();
    expect(view.pending).toBe(0);
  });

  it('keeps a delta recorded again while the catalog was being checked for the older one', async () => {
    const { catalog, options, advance } = laggingCatalog();
    let release!: () => void;
    const gate = new Promise<void>(resolve => (release = resolve));
    const view = new RecentDeltasView(catalog, {
      ...options,
      lookup: async refs => {
        await gate;
        return refs.map(ref => catalog.entities.get(ref));
      },
    });
    view.record([user('jane', '1', ['a'])], []);
    catalog.replaceAll([user('jane', '1', ['a'])]);
    advance(MINUTE);
    const settled = view.settle();
    view.record([user('jane', '1', ['b'])], []); // a newer delta, not processed yet
    release();
    await settled;
    expect(await view.usersInGroup('b')).toEqual([{ name: 'jane', pk: '1' }]);
  });

  it('forgets a delta the catalog never shows after maxAgeMs, and checks young deltas not at all', async () => {
    const { catalog, options, advance } = laggingCatalog();
    const lookup = jest.fn(options.lookup!);
    const view = new RecentDeltasView(catalog, { ...options, lookup });
    view.record([user('jane', '1')], []);
    await view.settle();
    expect(lookup).toHaveBeenCalledTimes(1); // what the catalog held before; no check yet
    advance(14 * MINUTE);
    await view.settle();
    expect(lookup).toHaveBeenCalledTimes(2);
    expect(view.pending).toBe(1);
    advance(2 * MINUTE);
    expect(view.pending).toBe(0);
  });

  it('forgets a delta once the catalog shows a newer change than it (another replica, a walk)', async () => {
    const { catalog, options, advance } = laggingCatalog();
    catalog.replaceAll([user('jane', '1', ['a'])]);
    const view = new RecentDeltasView(catalog, options);
    view.record([user('jane', '1', ['b'])], []);
    await flush();
    catalog.replaceAll([user('jane', '1', ['c'])]); // never this replica's delta
    advance(MINUTE);
    await view.settle();
    expect(view.pending).toBe(0);
    expect(await view.usersInGroup('c')).toEqual([{ name: 'jane', pk: '1' }]);
  });

  it('waits out its own older delta: the catalog processing that one is not a newer change', async () => {
    const { catalog, options, advance } = laggingCatalog();
    catalog.replaceAll([user('jane', '1', ['a'])]);
    const view = new RecentDeltasView(catalog, options);
    view.record([user('jane', '1', ['b'])], []);
    await flush();
    view.record([user('jane', '1', ['c'])], []);
    await flush();
    catalog.replaceAll([user('jane', '1', ['b'])]); // the first delta processed, not the second
    advance(MINUTE);
    await view.settle();
    expect(await view.usersInGroup('c')).toEqual([{ name: 'jane', pk: '1' }]);
    expect(await view.usersInGroup('b')).toEqual([]);
  });

  it('without a lookup, forgets deltas after 2 minutes as before', async () => {
    let clock = 0;
    const view = new RecentDeltasView(new MemoryCatalog(), { now: () => clock });
    view.record([user('jane', '1')], []);
    clock += 119_000;
    expect(view.pending).toBe(1);
    clock += 2_000;
    expect(view.pending).toBe(0);
  });
});

describe('DeltaPlanner over RecentDeltasView: a catalog minutes behind', () => {
  it('does not plan a large rename again when its event is replayed before the catalog processed it', async () => {
    const dir = new MemoryAuthentik();
    const everyone = dir.addGroup({ name: 'Everyone' });
    for (let i = 0; i < 300; i++) everyone.users.push(dir.addUser({ username: `user${i}` }).pk);
    const { catalog, options, advance } = laggingCatalog();
    catalog.replaceAll(await walkAll(dir, config));
    const view = new RecentDeltasView(catalog, options);
    const planner = new DeltaPlanner({ api: dir, catalog: view, mapping, pageSize: 100, concurrency: 2, now: () => 0 });
    await planner.plan({ users: new Set(), groups: new Set() }); // the group directory, read once

    everyone.name = 'All Staff';
    const rename = await planner.plan({ users: new Set(), groups: new Set([normalizeGroupPk(everyone.pk)]) });
    view.record(rename.added, rename.removed);
    expect(rename.added).toHaveLength(301);

    // The event log replays the same change 5 minutes later; the catalog has not caught up
    // (a 5,000-entity rename took it minutes at 100,000 users).
    advance(5 * MINUTE);
    await view.settle();
    const replay = await planner.plan({ users: new Set(), groups: new Set([normalizeGroupPk(everyone.pk)]) });
    expect(replay.requests).toBeLessThanOrEqual(3);
    expect(replay.added.map(stringifyEntityRef)).toEqual(['group:default/all-staff']);
    expect(replay.removed).toEqual([]);
  });
});
