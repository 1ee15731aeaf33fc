/**
 * authentik notification webhooks through a real backend: the events plugin's HTTP
 * ingress (guarded by this module's validator) → the shared events service → the
 * incremental engine → this module's delta planner → the catalog API.
 */
import type { Entity } from '@backstage/catalog-model';
import { DemoDirectory, SEED_GROUPS, SEED_USERS, seedDemoDirectory } from '../dev/demo-authentik';
import { catalogDifferences, expectedCatalog } from './harness/expectedCatalog';
import {
  AuthentikTestBackend,
  describeIfPostgres,
  sleep,
  startAuthentikTestBackend,
  TestDatabase,
  WebhookSender,
} from './harness/startAuthentikTestBackend';
import {
  defaultBody,
  groupModel,
  mappingBody,
  TEST_NOTIFICATION_DEFAULT,
  TEST_NOTIFICATION_MAPPING,
  userModel,
} from './harness/webhookBodies';

const SECRET = `whsec-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
const WRONG_SECRET = `wrong-${Math.random().toString(36).slice(2)}`;
/** A change must land within this (the brief: ≤ 10 s). */
const LANDS_WITHIN_MS = 10_000;
const OTHER_TOPIC = 'not-authentik';

type BodyForm = 'mapping' | 'default';

const targetsOf = (entity: Entity | undefined, type: string) =>
  (entity?.relations ?? []).filter(r => r.type === type).map(r => r.targetRef).sort();
const memberOf = (entity: Entity | undefined) => [...((entity?.spec?.memberOf as string[] | undefined) ?? [])].sort();

function userPk(directory: DemoDirectory, username: string): number {
  const user = directory.findUserByUsername(username);
  if (!user) throw new Error(`no user ${username}`);
  return user.pk;
}

function groupPk(directory: DemoDirectory, name: string): string {
  const group = directory.findGroupByName(name);
  if (!group) throw new Error(`no group ${name}`);
  return group.pk;
}

async function expectLands(h: AuthentikTestBackend, check: (entities: Entity[]) => void | Promise<void>) {
  await h.waitFor(
    async () => {
      const entities = await h.getEntities();
      expect(catalogDifferences(entities, expectedCatalog(h.directory))).toEqual([]);
      await check(entities);
      return true;
    },
    { timeoutMs: LANDS_WITHIN_MS, description: 'the change to land in the catalog' },
  );
}

/** Every change the brief lists, as authentik would notify it, in order (state accumulates). */
function changeScenarios(getHarness: () => AuthentikTestBackend) {
  let sender: WebhookSender | undefined;
  const useSender = (form: BodyForm) => {
    sender?.stop();
    sender = getHarness().startWebhookSender({ bodyForm: form, secret: SECRET, retryDelayMs: 50 });
    return sender;
  };
  afterAll(() => sender?.stop());

  const find = (entities: Entity[], kind: string, name: string) =>
    entities.find(e => e.kind === kind && e.metadata.name === name);

  const scenarios: Array<{
    name: string;
    form: BodyForm;
    act: (d: DemoDirectory) => void;
    check: (entities: Entity[], h: AuthentikTestBackend) => void | Promise<void>;
  }> = [
    {
      name: 'user created',
      form: 'mapping',
      act: d =>
        d.addUser({
          username: 'nina.new',
          name: 'Nina New',
          email: 'nina.new@example.com',
          groups: [groupPk(d, SEED_GROUPS.frontend)],
        }),
      check: entities => {
        const nina = find(entities, 'User', 'nina.new');
        expect(nina?.spec?.profile).toEqual(expect.objectContaining({ displayName: 'Nina New', email: 'nina.new@example.com' }));
        expect(targetsOf(find(entities, 'Group', 'frontend'), 'hasMember')).toContain('user:default/nina.new');
      },
    },
    {
      name: 'user updated (display name)',
      form: 'default',
      act: d => d.updateUser(userPk(d, SEED_USERS.carol), { name: 'Carol Smith-Jones' }),
      check: entities => {
        expect((find(entities, 'User', 'carol.smith')?.spec?.profile as { displayName: string }).displayName).toBe(
          'Carol Smith-Jones',
        );
      },
    },
    {
      name: 'user deactivated → removed, and gone from its groups’ hasMember',
      form: 'mapping',
      act: d => d.updateUser(userPk(d, SEED_USERS.erin), { is_active: false }),
      check: entities => {
        expect(find(entities, 'User', 'erin.garcia')).toBeUndefined();
        expect(targetsOf(find(entities, 'Group', 'backend'), 'hasMember')).not.toContain('user:default/erin.garcia');
      },
    },
    {
      name: 'user deleted',
      form: 'default',
      act: d => d.deleteUser(userPk(d, SEED_USERS.heidi)),
      check: entities => {
        expect(find(entities, 'User', 'heidi.schmidt')).toBeUndefined();
        expect(targetsOf(find(entities, 'Group', 'data---analytics'), 'hasMember')).not.toContain('user:default/heidi.schmidt');
      },
    },
    {
      name: 'user’s groups set (model_updated on the user) → memberOf changes',
      form: 'mapping',
      act: d => d.setUserGroups(userPk(d, SEED_USERS.judy), [groupPk(d, SEED_GROUPS.design), groupPk(d, SEED_GROUPS.sales)]),
      check: entities => {
        expect(memberOf(find(entities, 'User', 'judy.chen'))).toEqual(['design', 'sales']);
        expect(targetsOf(find(entities, 'Group', 'sales'), 'hasMember')).toContain('user:default/judy.chen');
      },
    },
    {
      name: 'member added via add_user (model_updated on the GROUP)',
      form: 'default',
      act: d => d.addMember(groupPk(d, SEED_GROUPS.operations), userPk(d, SEED_USERS.dave)),
      check: entities => {
        expect(memberOf(find(entities, 'User', 'dave.wilson'))).toEqual(['frontend', 'operations']);
        expect(targetsOf(find(entities, 'Group', 'operations'), 'hasMember')).toContain('user:default/dave.wilson');
      },
    },
    {
      name: 'member removed via remove_user (model_updated on the GROUP)',
      form: 'mapping',
      act: d => d.removeMember(groupPk(d, SEED_GROUPS.platform), userPk(d, SEED_USERS.quinn)),
      check: entities => {
        expect(memberOf(find(entities, 'User', 'quinn.taylor'))).toEqual(['operations']);
        expect(targetsOf(find(entities, 'Group', 'platform'), 'hasMember')).not.toContain('user:default/quinn.taylor');
      },
    },
    {
      name: 'user renamed into a name that needs sanitising',
      form: 'default',
      act: d => d.updateUser(userPk(d, SEED_USERS.dave), { username: 'Dave.Wilson+Ops@Example.COM' }),
      check: entities => {
        expect(find(entities, 'User', 'dave.wilson')).toBeUndefined();
        const renamed = find(entities, 'User', 'dave.wilson-ops-example.com');
        expect(memberOf(renamed)).toEqual(['frontend', 'operations']);
        expect(targetsOf(find(entities, 'Group', 'frontend'), 'hasMember')).toEqual(
          expect.arrayContaining(['user:default/dave.wilson-ops-example.com']),
        );
        expect(targetsOf(find(entities, 'Group', 'frontend'), 'hasMember')).not.toContain('user:default/dave.wilson');
      },
    },
    {
      name: 'group renamed → old entity gone, new one present, memberOf and parents re-pointed',
      form: 'mapping',
      act: d => d.renameGroup(groupPk(d, SEED_GROUPS.engineering), 'Engineering Org'),
      check: entities => {
        expect(find(entities, 'Group', 'engineering')).toBeUndefined();
        const org = find(entities, 'Group', 'engineering-org');
        expect(org?.spec?.profile).toEqual({ displayName: 'Engineering Org' });
        expect([...(org?.spec?.children as string[])].sort()).toEqual(['backend', 'frontend', 'platform']);
        expect(memberOf(find(entities, 'User', 'jane.doe-example.com'))).toEqual(['engineering-org', 'platform']);
        expect(memberOf(find(entities, 'User', 'carol.smith'))).toEqual(['engineering-org']);
        for (const child of ['platform', 'frontend', 'backend']) {
          expect(find(entities, 'Group', child)?.spec?.parent).toBe('engineering-org');
        }
        expect(JSON.stringify(entities.map(e => [e.spec, e.relations]))).not.toMatch(/"engineering"|group:default\/engineering"/);
      },
    },
    {
      name: 'group deleted → gone, members and children no longer reference it',
      form: 'default',
      act: d => d.deleteGroup(groupPk(d, SEED_GROUPS.platform)),
      check: entities => {
        expect(find(entities, 'Group', 'platform')).toBeUndefined();
        expect(memberOf(find(entities, 'User', 'jane.doe-example.com'))).toEqual(['engineering-org']);
        expect(memberOf(find(entities, 'User', 'alice.nguyen'))).toEqual(['sre']);
        // SRE's other parent takes over; engineering-org no longer lists platform.
        expect(find(entities, 'Group', 'sre')?.spec?.parent).toBe('operations');
        expect(find(entities, 'Group', 'engineering-org')?.spec?.children).not.toContain('platform');
        expect(JSON.stringify(entities.map(e => [e.spec, e.relations]))).not.toMatch(/"platform"|group:default\/platform"/);
      },
    },
  ];

  it.each(scenarios)('$form body: $name', async ({ form, act, check }) => {
    const h = getHarness();
    const s = useSender(form);
    const sentBefore = s.dispatcher.stats.sent;
    act(h.directory);
    await s.idle();
    expect(s.dispatcher.stats.failed).toBe(0);
    expect(s.dispatcher.stats.sent).toBeGreaterThan(sentBefore);
    await expectLands(h, entities => check(entities, h));
  });
}

function webhookSuite(database: TestDatabase, options: { full: boolean }) {
  let h: AuthentikTestBackend;

  beforeAll(async () => {
    h = await startAuthentikTestBackend({
      database,
      directory: seedDemoDirectory(),
      webhookSecret: SECRET,
      // A topic of someone else's, to check that this module's JSON parser leaves it alone.
      config: { events: { http: { topics: [OTHER_TOPIC] } } },
    });
    await h.waitFor(async () => catalogDifferences(await h.getEntities(), expectedCatalog(h.directory)).length === 0, {
      timeoutMs: 20_000,
      description: 'the first walk to land',
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  if (options.full) {
    describe('bad input is refused and changes nothing', () => {
      let baseline: Map<string, string>;
      beforeAll(async () => {
        // Let the first walk's processing settle before taking the reference snapshot.
        await sleep(1500);
        baseline = await h.snapshot();
      });

      const alice = () => h.directory.findUserByUsername(SEED_USERS.alice)!;
      const aliceBody = () => mappingBody('model_updated', userModel(alice()));

      const rows: Array<{
        name: string;
        send: () => ReturnType<AuthentikTestBackend['postWebhook']>;
        status: number;
      }> = [
        { name: 'no Authorization header', status: 401, send: () => h.postWebhook(aliceBody(), { authorization: undefined }) },
        { name: 'wrong secret', status: 403, send: () => h.postWebhook(aliceBody(), { authorization: `Bearer ${WRONG_SECRET}` }) },
        {
          name: 'wrong scheme (Basic …)',
          status: 401,
          send: () =>
            h.postWebhook(aliceBody(), { authorization: `Basic ${Buffer.from(`akadmin:${SECRET}`).toString('base64')}` }),
        },
        {
          name: 'the secret itself with no scheme',
          status: 401,
          send: () => h.postWebhook(aliceBody(), { authorization: SECRET }),
        },
        {
          name: 'non-JSON body declared application/json',
          status: 400,
          send: () => h.postWebhook(undefined, {}, { raw: '{"version": 1, "action": "model_updated", ' }),
        },
        {
          name: 'non-JSON body declared application/json, no Authorization header',
          status: 401,
          send: () => h.postWebhook(undefined, { authorization: undefined }, { raw: '{"version": 1, ' }),
        },
        {
          name: 'text/plain content type',
          status: 415,
          send: () => h.postWebhook(undefined, {}, { raw: JSON.stringify(aliceBody()), contentType: 'text/plain' }),
        },
        {
          name: 'huge body (> 64 KiB)',
          status: 413,
          send: () => h.postWebhook({ ...aliceBody(), padding: 'x'.repeat(70 * 1024) }),
        },
        {
          name: 'mapping form, model.pk of the wrong type',
          status: 400,
          send: () => h.postWebhook(mappingBody('model_updated', { ...userModel(alice()), pk: true })),
        },
        {
          name: 'mapping form, action of the wrong type',
          status: 400,
          send: () => h.postWebhook({ ...aliceBody(), action: 42 }),
        },
        {
          name: 'mapping form, version of the wrong type',
          status: 400,
          send: () => h.postWebhook({ ...aliceBody(), version: '1' }),
        },
        {
          name: 'mapping form, model of the wrong type',
          status: 400,
          send: () => h.postWebhook({ ...aliceBody(), model: 'authentik_core.user' }),
        },
        {
          name: 'default form, body of the wrong type',
          status: 400,
          send: () => h.postWebhook({ ...defaultBody('model_updated', userModel(alice())), body: 42 }),
        },
        {
          name: 'a JSON array',
          status: 400,
          send: () => h.postWebhook([aliceBody()]),
        },
        {
          name: 'unknown model authentik_core.token (mapping form): accepted, ignored',
          status: 202,
          send: () => h.postWebhook(mappingBody('model_updated', { pk: 'ak-token-1', name: 'ci token', model_name: 'token' })),
        },
        {
          name: 'unknown model authentik_core.token (default form): accepted, ignored',
          status: 202,
          send: () => h.postWebhook(defaultBody('model_deleted', { pk: 'ak-token-1', name: 'ci token', model_name: 'token' })),
        },
        {
          name: 'another app’s model (authentik_providers_oauth2.oauth2provider): accepted, ignored',
          status: 202,
          send: () =>
            h.postWebhook(
              mappingBody('model_updated', { pk: 3, name: 'Backstage', model_name: 'oauth2provider', app: 'authentik_providers_oauth2' }),
            ),
        },
        { name: 'test notification (mapping form): accepted, ignored', status: 202, send: () => h.postWebhook(TEST_NOTIFICATION_MAPPING) },
        { name: 'test notification (default form): accepted, ignored', status: 202, send: () => h.postWebhook(TEST_NOTIFICATION_DEFAULT) },
        {
          name: 'a non-model action (login): accepted, ignored',
          status: 202,
          send: () => h.postWebhook(mappingBody('login', null)),
        },
      ];

      it.each(rows)('$name → $status', async ({ send, status }) => {
        const requestsBefore = h.demo.requests;
        const response = await send();
        expect(response.status).toBe(status);
        // Longer than the coalescing window (250 ms): a queued hint would have been planned.
        await sleep(650);
        expect(h.demo.requests).toBe(requestsBefore);
        expect(await h.snapshot()).toEqual(baseline);
      });

      it("leaves other topics as the events backend serves them: JSON accepted, non-JSON a 500", async () => {
        const post = (body: string) =>
          fetch(`${h.baseUrl}/api/events/http/${OTHER_TOPIC}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
        expect((await post('{"hello": "world"}')).status).toBe(202);
        expect((await post('{"hello": ')).status).toBe(500);
      });

      it('model_deleted for a user that still exists in authentik is treated as an update: the user stays', async () => {
        const response = await h.postWebhook(mappingBody('model_deleted', userModel(alice())));
        expect(response.status).toBe(202);
        const requestsBefore = h.demo.requests;
        // authentik is asked (the event is only a hint)…
        await h.waitFor(() => h.demo.requests > requestsBefore, { description: 'authentik to be read' });
        // …and the user is still there afterwards.
        await h.expectStable(async () => {
          expect(await h.getEntity('User', 'alice.nguyen')).toBeDefined();
          expect([...(await h.snapshot()).keys()]).toEqual([...baseline.keys()]);
        }, 2500);
        const defaultForm = await h.postWebhook(defaultBody('model_deleted', userModel(alice())));
        expect(defaultForm.status).toBe(202);
        await h.expectStable(async () => expect(await h.getEntity('User', 'alice.nguyen')).toBeDefined(), 1500);
      });
    });

    describe('hand-written bodies of both forms apply a change', () => {
      it('mapping form: a user whose display name changed', async () => {
        const pk = userPk(h.directory, SEED_USERS.trent);
        h.directory.updateUser(pk, { name: 'Trent Adams (Sales)' }); // no sender attached: silent
        const response = await h.postWebhook(mappingBody('model_updated', userModel(h.directory.getUser(pk)!)));
        expect(response.status).toBe(202);
        await expectLands(h, async () => {
          expect((await h.getEntity('User', 'trent.adams'))?.spec?.profile).toMatchObject({ displayName: 'Trent Adams (Sales)' });
        });
      });

      it('default form: a display name with a quote (Python repr in double quotes)', async () => {
        const pk = userPk(h.directory, SEED_USERS.frank);
        h.directory.updateUser(pk, { name: "Frank O'Callaghan-Reyes" }); // silent
        const body = defaultBody('model_updated', userModel(h.directory.getUser(pk)!));
        expect(body.body).toContain(`'name': "Frank O'Callaghan-Reyes"`);
        expect((await h.postWebhook(body)).status).toBe(202);
        await expectLands(h, async () => {
          expect((await h.getEntity('User', 'frank.ocallaghan'))?.spec?.profile).toMatchObject({
            displayName: "Frank O'Callaghan-Reyes",
          });
        });
      });

      it('default form: a group that gained a member', async () => {
        const group = h.directory.findGroupByName(SEED_GROUPS.people)!;
        h.directory.addMember(group.pk, userPk(h.directory, SEED_USERS.oscar)); // silent
        const response = await h.postWebhook(defaultBody('model_updated', groupModel(group)));
        expect(response.status).toBe(202);
        await expectLands(h, async () => {
          expect(memberOf(await h.getEntity('User', 'oscar.lee'))).toEqual(['people', 'sales']);
        });
      });
    });
  }

  describe('changes notified by authentik land in the catalog', () => {
    changeScenarios(() => h);
  });

  it('never logs the authentik token or the webhook secret', () => {
    expect(h.logs.records.length).toBeGreaterThan(0);
    expect(h.logs.containing(h.token)).toEqual([]);
    expect(h.logs.containing(WRONG_SECRET)).toEqual([]);
    // Nothing at any level, whoever logs it: Backstage's event bus logs every published
    // event's metadata (the raw request headers) at debug, so the secret must not get there.
    expect(h.logs.containing(SECRET)).toEqual([]);
    expect(h.logs.find(/Event received: topic=authentik/, 'debug').length).toBeGreaterThan(0);
  });
}

describe('authentik webhooks (SQLite)', () => {
  webhookSuite('sqlite', { full: true });

  describe('without a secret', () => {
    let noSecret: AuthentikTestBackend;
    let unauthenticated: AuthentikTestBackend;

    beforeAll(async () => {
      [noSecret, unauthenticated] = await Promise.all([
        // Webhooks only: the event log's own reads (poll mode is the default without a
        // secret) would count as authentik requests below.
        startAuthentikTestBackend({ label: 'no-secret', waitForFirstWalk: false, provider: { events: { mode: 'webhook' } } }),
        startAuthentikTestBackend({
          label: 'dangerously-unauthenticated',
          provider: { webhook: { dangerouslyAllowUnauthenticated: true } },
        }),
      ]);
    });

    afterAll(async () => {
      await Promise.all([noSecret?.stop(), unauthenticated?.stop()]);
    });

    it('rejects every delivery (401) when no secret is configured and there is no opt-out', async () => {
      const alice = noSecret.directory.findUserByUsername(SEED_USERS.alice)!;
      const body = mappingBody('model_updated', userModel(alice));
      const requestsBefore = noSecret.demo.requests;
      for (const headers of [{}, { authorization: `Bearer ${SECRET}` }, { authorization: 'Bearer ' }]) {
        const response = await noSecret.postWebhook(body, headers);
        expect(response.status).toBe(401);
      }
      await sleep(800);
      expect(noSecret.demo.requests).toBe(requestsBefore);
      // An unauthenticated flood cannot flood the logs: one warning a minute.
      for (let i = 0; i < 20; i++) expect((await noSecret.postWebhook(body)).status).toBe(401);
      expect(noSecret.logs.find(/Rejected an authentik webhook/, 'warn')).toHaveLength(1);
    });

    it('accepts deliveries without authentication with webhook.dangerouslyAllowUnauthenticated: true', async () => {
      const h = unauthenticated;
      h.directory.addUser({ username: 'open.door', name: 'Open Door', email: 'open.door@example.com' });
      const user = h.directory.findUserByUsername('open.door')!;
      const response = await h.postWebhook(mappingBody('model_created', userModel(user)), { authorization: undefined });
      expect(response.status).toBe(202);
      await h.waitFor(async () => (await h.getEntity('User', 'open.door')) !== undefined, {
        timeoutMs: LANDS_WITHIN_MS,
        description: 'open.door to land',
      });
      // Shape checks still apply.
      expect((await h.postWebhook({ version: 1, action: 42 }, { authorization: undefined })).status).toBe(400);
      expect(h.logs.find(/WITHOUT authentication/, 'warn')).toHaveLength(1);
    });

    it('never logs the authentik tokens', () => {
      expect(noSecret.logs.containing(noSecret.token)).toEqual([]);
      expect(unauthenticated.logs.containing(unauthenticated.token)).toEqual([]);
    });
  });
});

describeIfPostgres('authentik webhooks (PostgreSQL)', () => {
  webhookSuite('postgres', { full: false });
});
