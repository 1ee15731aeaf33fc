/**
 * Full walks through a real backend (catalog + incremental ingestion + events + this
 * module) against the demo authentik, on SQLite and on PostgreSQL.
 */
import type { Entity } from '@backstage/catalog-model';
import {
  SEED_EXCLUDED_GROUP,
  SEED_GROUPS,
  SEED_INACTIVE_USERS,
  SEED_USERS,
  seedDemoDirectory,
} from '../dev/demo-authentik';
import { catalogDifferences, expectedCatalog, SEED_ENTITY_NAMES, specEntityName } from './harness/expectedCatalog';
import {
  AuthentikTestBackend,
  describeIfPostgres,
  sleep,
  startAuthentikTestBackend,
  TestDatabase,
} from './harness/startAuthentikTestBackend';

/** What an authentik token that sees nothing (internal service account) gets: an empty 200. */
const EMPTY_PAGE = {
  pagination: { next: 0, previous: 0, count: 0, current: 1, total_pages: 1, start_index: 0, end_index: 0 },
  results: [],
  autocomplete: {},
};

const refOf = (e: Entity) => `${e.kind.toLowerCase()}:default/${e.metadata.name}`;
const rel = (type: string, targetRef: string) => ({ type, targetRef });

function walkSuite(database: TestDatabase) {
  let h: AuthentikTestBackend;

  const entityRefs = async () => (await h.getEntities()).map(refOf).sort();
  const expectMatchesDirectory = async (timeoutMs = 10_000) =>
    h.waitFor(
      async () => {
        expect(catalogDifferences(await h.getEntities(), expectedCatalog(h.directory))).toEqual([]);
        return true;
      },
      { timeoutMs, description: 'the catalog to match the demo directory' },
    );

  beforeAll(async () => {
    h = await startAuthentikTestBackend({
      database,
      directory: seedDemoDirectory(),
      // Small pages, two pages per window, some latency: a walk is ~35 requests over ~7
      // engine marks and takes over a second, so a failure can be injected in the middle.
      demoOptions: { latencyMs: 40 },
      // Only walks here: the event-log follower (mode "both", the default with a webhook
      // secret) would otherwise notice changes made "without any webhook" within seconds.
      provider: { incremental: { pageSize: 2, concurrency: 1 }, events: { mode: 'webhook' } },
    });
    await expectMatchesDirectory(20_000);
  });

  afterEach(() => {
    // A failed assertion must not leave authentik failing for the next test.
    h?.demo.failNext(0, 200);
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('after the first walk the catalog holds exactly the eligible users and the non-excluded groups', async () => {
    const entities = await h.getEntities();
    const users = entities.filter(e => e.kind === 'User').map(e => e.metadata.name).sort();
    const groups = entities.filter(e => e.kind === 'Group').map(e => e.metadata.name).sort();

    expect(users).toEqual(Object.values(SEED_ENTITY_NAMES.users).sort());
    expect(groups).toEqual(Object.values(SEED_ENTITY_NAMES.groups).sort());
    // The hand-written names follow the spec's rule.
    for (const [raw, name] of [...Object.entries(SEED_ENTITY_NAMES.users), ...Object.entries(SEED_ENTITY_NAMES.groups)]) {
      expect(specEntityName(raw)).toBe(name);
    }

    // Out: inactive users, service accounts (both kinds), the excluded group.
    const outUsers = [...SEED_INACTIVE_USERS, SEED_USERS.ciBot, SEED_USERS.outpost].map(specEntityName);
    for (const name of outUsers) expect(users).not.toContain(name);
    expect(groups).not.toContain(SEED_EXCLUDED_GROUP);
    expect(await h.getEntity('Group', SEED_EXCLUDED_GROUP)).toBeUndefined();

    // Nobody references the excluded group, in spec or relations.
    for (const entity of entities) {
      expect(JSON.stringify({ spec: entity.spec, relations: entity.relations })).not.toContain(SEED_EXCLUDED_GROUP);
    }
  });

  it('maps names, profiles and memberships as the seed says', async () => {
    const jane = await h.getEntity('User', 'jane.doe-example.com');
    expect(jane?.spec).toMatchObject({
      profile: { displayName: 'Jane Doe', email: 'jane.doe@example.com' },
    });
    expect((jane?.spec?.memberOf as string[]).slice().sort()).toEqual(['engineering', 'platform']);
    expect(jane?.relations).toEqual(
      expect.arrayContaining([rel('memberOf', 'group:default/engineering'), rel('memberOf', 'group:default/platform')]),
    );

    const zoe = await h.getEntity('User', 'zoe.mueller');
    expect((zoe?.spec?.profile as { displayName: string }).displayName).toBe('Zoë Müller');

    // A user without email has no spec.profile.email at all.
    const pat = await h.getEntity('User', 'pat.morgan');
    expect(pat).toBeDefined();
    expect(pat?.spec?.profile).not.toHaveProperty('email');

    // akadmin's only group is the excluded one: no memberships left.
    const admin = await h.getEntity('User', 'akadmin');
    expect(admin?.spec?.memberOf).toEqual([]);
    expect((admin?.relations ?? []).filter(r => r.type === 'memberOf')).toEqual([]);

    // An external user is in.
    expect((await h.getEntity('User', 'rupert.external'))?.spec?.memberOf).toEqual(['contractors']);

    // The group side: hasMember, and inactive members are not listed.
    const platform = await h.getEntity('Group', 'platform');
    const members = (platform?.relations ?? []).filter(r => r.type === 'hasMember').map(r => r.targetRef).sort();
    expect(members).toEqual(['user:default/alice.nguyen', 'user:default/jane.doe-example.com', 'user:default/quinn.taylor']);
    const backend = await h.getEntity('Group', 'backend');
    const backendMembers = (backend?.relations ?? []).filter(r => r.type === 'hasMember').map(r => r.targetRef);
    expect(backendMembers).not.toContain(`user:default/${specEntityName(SEED_USERS.mallory)}`);
  });

  it('maps the hierarchy: parent/child relations, the multi-parent group and the orphaned child of the excluded group', async () => {
    const engineering = await h.getEntity('Group', 'engineering');
    expect((engineering?.spec?.children as string[]).slice().sort()).toEqual(['backend', 'frontend', 'platform']);
    expect(engineering?.relations).toEqual(
      expect.arrayContaining([
        rel('parentOf', 'group:default/platform'),
        rel('parentOf', 'group:default/frontend'),
        rel('parentOf', 'group:default/backend'),
      ]),
    );
    const platform = await h.getEntity('Group', 'platform');
    expect(platform?.spec?.parent).toBe('engineering');
    expect(platform?.relations).toEqual(expect.arrayContaining([rel('childOf', 'group:default/engineering')]));

    // SRE has two parents in authentik: one spec.parent, listed in both parents' children.
    const sre = await h.getEntity('Group', 'sre');
    expect(['platform', 'operations']).toContain(sre?.spec?.parent);
    expect((platform?.spec?.children as string[])).toContain('sre');
    const operations = await h.getEntity('Group', 'operations');
    expect((operations?.spec?.children as string[])).toContain('sre');
    expect(sre?.relations).toEqual(
      expect.arrayContaining([rel('childOf', 'group:default/platform'), rel('childOf', 'group:default/operations')]),
    );

    // "Break Glass" is a child of the excluded "Authentik Admins": no parent at all.
    const breakGlass = await h.getEntity('Group', specEntityName(SEED_GROUPS.breakGlass));
    expect(breakGlass).toBeDefined();
    expect(breakGlass?.spec).not.toHaveProperty('parent');
    expect((breakGlass?.relations ?? []).filter(r => r.type === 'childOf')).toEqual([]);

    // And the whole catalog agrees with the seed, relation by relation.
    expect(catalogDifferences(await h.getEntities(), expectedCatalog(h.directory))).toEqual([]);
  });

  it('a walk that fails mid-way (authentik answers 403) removes nothing, and the resumed walk completes', async () => {
    const before = await entityRefs();
    const failedBefore = h.failedBursts();
    const completedBefore = h.completedWalks();
    const logIndex = h.logs.records.length;

    await h.triggerWalk();
    // Let the walk read the groups and emit a first page of users (the engine logs each mark
    // with the cursor that follows it: users already emitted > 0), then cut authentik off.
    await h.waitFor(
      () => h.logs.records.slice(logIndex).some(r => /MARK [1-9]\d* entities, cursor: \{"phase":"users".*"users":[1-9]/.test(r.message)),
      { timeoutMs: 15_000, intervalMs: 2, description: 'the walk to emit a first page of users' },
    );
    h.demo.failNext(1_000_000, 403, { detail: 'Token invalid/expired' });

    await h.waitFor(() => h.failedBursts() > failedBefore, { timeoutMs: 15_000, description: 'the burst to fail' });
    const status = await h.providerStatus();
    expect(status.status.current_action).toBe('backing off');
    expect(status.last_error).toMatch(/403/);
    // It really failed mid-walk: marks of this cycle hold user pages already.
    const marks = await h.request('GET', '/api/catalog/incremental/providers/authentik%3Adefault/marks');
    expect((marks.body as { records: unknown[] }).records.length).toBeGreaterThanOrEqual(3);
    expect(h.completedWalks()).toBe(completedBefore);

    // Nothing was removed, and nothing is removed while authentik keeps failing.
    await h.expectStable(async () => expect(await entityRefs()).toEqual(before), 2500);

    // authentik is back: the engine resumes the same cycle after its backoff and completes it.
    h.demo.failNext(0, 200);
    await h.waitForCompletedWalk(completedBefore);
    await expectMatchesDirectory();
    expect(await entityRefs()).toEqual(before);
  });

  it('a second walk sweeps what authentik deleted or deactivated without any webhook', async () => {
    const grace = h.directory.findUserByUsername(SEED_USERS.grace)!;
    const ivan = h.directory.findUserByUsername(SEED_USERS.ivan)!;
    h.directory.deleteUser(grace.pk);
    h.directory.updateUser(ivan.pk, { is_active: false });
    // No webhook sender is attached: only the walk can notice.
    await sleep(1000);
    expect(await h.getEntity('User', 'grace.hopper')).toBeDefined();

    await h.runWalk();
    await h.waitFor(async () => (await h.getEntity('User', 'grace.hopper')) === undefined, {
      description: 'grace.hopper to be swept',
    });
    expect(await h.getEntity('User', 'ivan.petrov')).toBeUndefined();
    await expectMatchesDirectory();
    const data = await h.getEntity('Group', 'data---analytics');
    expect((data?.relations ?? []).map(r => r.targetRef)).not.toContain('user:default/grace.hopper');
  });

  it('a walk in which authentik lists an EMPTY directory removes nothing', async () => {
    const before = await entityRefs();
    expect(before.length).toBeGreaterThan(20);
    const failedBefore = h.failedBursts();
    const completedBefore = h.completedWalks();

    // A token that sees nothing: every list answers 200 with no results.
    h.demo.failNext(1_000_000, 200, EMPTY_PAGE);
    await h.triggerWalk();
    await h.waitFor(() => h.failedBursts() > failedBefore, { timeoutMs: 15_000, description: 'the empty walk to be refused' });
    const status = await h.providerStatus();
    expect(status.last_error).toMatch(/no users and no groups/);
    expect(h.completedWalks()).toBe(completedBefore);
    await h.expectStable(async () => expect(await entityRefs()).toEqual(before), 2500);

    // authentik is back: the engine resumes the interrupted cycle and completes it. On the
    // seed nothing is removed — but only because the engine's removal guard refuses that
    // cycle's sweep (it wants to remove every group: the resumed cycle never re-emits them).
    // With fewer groups than the guard's 25% the groups ARE deleted: a src bug, reproduced
    // in test/repro/emptyWalkResume.repro.ts.
    h.demo.failNext(0, 200);
    await h.waitForCompletedWalk(completedBefore);
    await sleep(1500);
    expect(await entityRefs()).toEqual(before);

    // The next full walk leaves the catalog exactly as the directory says.
    await h.runWalk();
    await expectMatchesDirectory();
    expect(await entityRefs()).toEqual(before);
  });

  it('never logs the authentik token', () => {
    expect(h.logs.records.length).toBeGreaterThan(0);
    expect(h.logs.containing(h.token)).toEqual([]);
  });
}

describe('authentik walk (SQLite)', () => walkSuite('sqlite'));
describeIfPostgres('authentik walk (PostgreSQL)', () => walkSuite('postgres'));
