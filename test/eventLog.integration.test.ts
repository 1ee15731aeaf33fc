/**
 * authentik's event log as the safety net for missed webhooks, and poll mode, through a
 * real backend: changes made while Backstage is down are applied after a restart without
 * a full walk; poll mode works with no webhook at all; a gap requests a full walk; two
 * replicas apply each logged change once; a 403 on the log is reported once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoAuthentik, seedDemoDirectory, startDemoAuthentik } from '../dev/demo-authentik';
import { makeDirectoryChanges } from './harness/directoryChanges';
import { mappingBody, userModel } from './harness/webhookBodies';
import { catalogDifferences, expectedCatalog } from './harness/expectedCatalog';
import { dropDatabasesWithPrefix } from './harness/postgres';
import {
  AuthentikTestBackend,
  AuthentikTestBackendOptions,
  describeIfPostgres,
  startAuthentikTestBackend,
  TestDatabase,
} from './harness/startAuthentikTestBackend';

const POLL_INTERVAL_MS = 1000;
/**
 * pollInterval + a few seconds. Unloaded it takes 3-7 s; the margin is for a 2-core CI
 * machine running other suites (the strict figures come from `npm run bench:eventlog`).
 */
const CATCH_UP_MS = POLL_INTERVAL_MS + 14_000;
const APPLIED = /^authentik event log: applied (\d+) change\(s\) \((\d+) already applied/;
const BURST_STARTED = /incremental-engine: Ingestion '[^']+' burst initiated/;

const token = `tok-eventlog-${Math.random().toString(36).slice(2)}`;

function pollMode(extra: Partial<AuthentikTestBackendOptions> = {}): AuthentikTestBackendOptions {
  return { token, provider: { events: { mode: 'poll', pollInterval: { milliseconds: POLL_INTERVAL_MS } } }, ...extra };
}

async function catalogMatches(h: AuthentikTestBackend, timeoutMs = CATCH_UP_MS): Promise<number> {
  const started = Date.now();
  try {
    await h.waitFor(
      async () => {
        expect(catalogDifferences(await h.getEntities(), expectedCatalog(h.directory))).toEqual([]);
        return true;
      },
      { timeoutMs, intervalMs: 100, description: 'the catalog to equal the directory' },
    );
  } catch (error) {
    // What the follower and the engine did, to tell a slow machine from a lost change.
    const trail = h.logs
      .find(/event log|authentik changes|delta|Cannot apply|failed/i)
      .map(r => `  ${r.level} ${r.message.slice(0, 200)}`);
    (error as Error).message += `\nFollower and engine log:\n${trail.slice(-30).join('\n')}`;
    throw error;
  }
  return Date.now() - started;
}

const appliedEvents = (h: AuthentikTestBackend) =>
  h.logs.find(APPLIED).reduce((sum, r) => sum + Number(APPLIED.exec(r.message)![1]), 0);

function persistentDatabase(database: TestDatabase): { name: string; drop(): Promise<void> } {
  if (database === 'postgres') {
    const name = `akt_evlog_${Math.random().toString(36).slice(2, 10)}_`;
    return { name, drop: async () => void (await dropDatabasesWithPrefix(name)) };
  }
  const name = mkdtempSync(join(tmpdir(), 'akt-evlog-'));
  return { name, drop: async () => rmSync(name, { recursive: true, force: true }) };
}

function outageSuite(database: TestDatabase) {
  let demo: DemoAuthentik;
  let db: { name: string; drop(): Promise<void> };
  const backends: AuthentikTestBackend[] = [];
  const start = async (options: Partial<AuthentikTestBackendOptions> = {}) => {
    const h = await startAuthentikTestBackend(pollMode({ database, demo, persistentDatabase: db.name, ...options }));
    backends.push(h);
    return h;
  };

  beforeEach(async () => {
    demo = await startDemoAuthentik({ directory: seedDemoDirectory(), token });
    db = persistentDatabase(database);
  });
  afterEach(async () => {
    for (const h of backends.splice(0)) await h.stop();
    await demo.stop();
    await db.drop();
  });

  it('applies the changes made while the backend was down after a restart, without a full walk', async () => {
    const first = await start();
    await first.waitFor(() => first.logs.find(/^Following authentik's event log from/).length > 0);
    await first.stop();

    const made = makeDirectoryChanges(demo.directory, 24, 'outage');
    expect(made).toBe(24);

    const second = await start({ waitForFirstWalk: false });
    const tookMs = await catalogMatches(second);
    expect(appliedEvents(second)).toBeGreaterThan(0);
    expect(second.logs.find(BURST_STARTED)).toEqual([]);
    expect(second.completedWalks()).toBe(0);
    expect(tookMs).toBeLessThan(CATCH_UP_MS);
  });

  it('requests a full walk when the watermark event left the log while the backend was down', async () => {
    const first = await start();
    await first.waitFor(() => first.logs.find(/^Following authentik's event log from/).length > 0);
    makeDirectoryChanges(demo.directory, 2, 'before');
    await catalogMatches(first);
    await first.stop();

    makeDirectoryChanges(demo.directory, 6, 'lost');
    demo.eventLog.clear(); // retention, or someone cleared the log
    makeDirectoryChanges(demo.directory, 3, 'after');

    const second = await start({ waitForFirstWalk: false });
    await second.waitFor(() => second.logs.find(/authentik event log gap \(watermark-lost\)/, 'warn').length > 0, {
      timeoutMs: CATCH_UP_MS,
      description: 'the gap to be reported',
    });
    await second.waitForCompletedWalk(0, { timeoutMs: 30_000 });
    await catalogMatches(second);
  });
}

describe('event log follower on SQLite', () => {
  describe('restart', () => outageSuite('sqlite'));

  describe('poll mode end to end (no webhooks)', () => {
    let h: AuthentikTestBackend;
    beforeAll(async () => {
      h = await startAuthentikTestBackend(pollMode());
    });
    afterAll(() => h.stop());

    it('lands every kind of change within pollInterval + a few seconds, each event once', async () => {
      await h.waitFor(() => h.logs.find(/^Following authentik's event log from/).length > 0);
      const walks = h.completedWalks();
      const made = makeDirectoryChanges(h.directory, 16, 'poll');
      await catalogMatches(h);
      await h.waitFor(() => appliedEvents(h) === made, { description: `${made} events applied` });
      expect(h.completedWalks()).toBe(walks);
      expect(h.demo.webhookDeliveries.sent).toBe(0);
    });

    it('reports a 403 on the event log once, with the fix, and keeps walking', async () => {
      h.demo.setEventLogForbidden(true);
      try {
        const warnings = () => h.logs.find(/authentik_events\.view_event/, 'warn').length;
        await h.waitFor(() => warnings() === 1, { description: 'the 403 to be reported' });
        await h.runWalk();
        await new Promise(resolve => setTimeout(resolve, 3 * POLL_INTERVAL_MS));
        expect(warnings()).toBe(1);
      } finally {
        h.demo.setEventLogForbidden(false);
      }
      makeDirectoryChanges(h.directory, 3, 'granted');
      await catalogMatches(h);
    });
  });

  describe('both mode: webhooks and the log', () => {
    let h: AuthentikTestBackend;
    const secret = `whsec-${Math.random().toString(36).slice(2)}`;
    beforeAll(async () => {
      h = await startAuthentikTestBackend({
        token,
        webhookSecret: secret,
        provider: { events: { pollInterval: { milliseconds: POLL_INTERVAL_MS } } },
      });
    });
    afterAll(() => h.stop());

    it('applies a change once when both a webhook and the log carry it', async () => {
      await h.waitFor(() => h.logs.find(/^Following authentik's event log from/).length > 0);
      const sender = h.startWebhookSender({ bodyForm: 'mapping', secret });
      makeDirectoryChanges(h.directory, 6, 'both');
      await sender.idle();
      await catalogMatches(h);
      // Let the follower read past those events: every one was claimed by its webhook.
      await new Promise(resolve => setTimeout(resolve, 3 * POLL_INTERVAL_MS));
      expect(appliedEvents(h)).toBe(0);
      sender.stop();
    });

    it('catches up what webhooks dropped', async () => {
      makeDirectoryChanges(h.directory, 5, 'dropped'); // no sender: every delivery lost
      await catalogMatches(h);
      expect(appliedEvents(h)).toBe(5);
    });

    it('ignores a webhook that arrives after the log applied its event', async () => {
      await h.waitFor(() => h.logs.find(/^Following authentik's event log from/).length > 0);
      const user = h.directory.addUser({ username: 'log.first', name: 'Log First' });
      await catalogMatches(h);
      const event = h.demo.eventLog.all().at(-1)!;
      const plansBefore = h.logs.find(/^authentik changes \(/).length;
      const response = await h.postWebhook(mappingBody('model_created', userModel(h.directory.getUser(user.pk)!), { event_pk: event.pk }));
      expect(response.status).toBe(202);
      await new Promise(resolve => setTimeout(resolve, 1500));
      expect(h.logs.find(/^authentik changes \(/).length).toBe(plansBefore);
    });
  });
});

describe('a late webhook triggers the follower', () => {
  let h: AuthentikTestBackend;
  const secret = `whsec-${Math.random().toString(36).slice(2)}`;
  beforeAll(async () => {
    // A poll interval far longer than the test: only the trigger can read the log in time.
    h = await startAuthentikTestBackend({ token, webhookSecret: secret, provider: { events: { pollInterval: { minutes: 30 } } } });
  });
  afterAll(() => h.stop());

  it('reads the log at once when a webhook arrives long after its event, catching up what was dropped', async () => {
    await h.waitFor(() => h.logs.find(/^Following authentik's event log from/).length > 0);
    makeDirectoryChanges(h.directory, 4, 'dropped-before-late'); // webhooks lost
    const late = h.directory.addUser({ username: 'late.webhook', name: 'Late Webhook' });
    const event = h.demo.eventLog.all().at(-1)!;
    const response = await h.postWebhook(
      mappingBody('model_created', userModel(h.directory.getUser(late.pk)!), {
        event_pk: event.pk,
        created: new Date(Date.now() - 120_000).toISOString(),
      }),
    );
    expect(response.status).toBe(202);
    await catalogMatches(h);
    expect(appliedEvents(h)).toBe(4); // the late one came by webhook, the rest from the log
  });
});

describeIfPostgres('event log follower on PostgreSQL', () => {
  describe('restart', () => outageSuite('postgres'));

  describe('two replicas sharing the database', () => {
    let demo: DemoAuthentik;
    let db: { name: string; drop(): Promise<void> };
    const replicas: AuthentikTestBackend[] = [];
    beforeAll(async () => {
      demo = await startDemoAuthentik({ directory: seedDemoDirectory(), token });
      db = persistentDatabase('postgres');
      replicas.push(await startAuthentikTestBackend(pollMode({ database: 'postgres', demo, persistentDatabase: db.name, label: 'replica-a' })));
      replicas.push(
        await startAuthentikTestBackend(
          pollMode({ database: 'postgres', demo, persistentDatabase: db.name, label: 'replica-b', waitForFirstWalk: false }),
        ),
      );
    });
    afterAll(async () => {
      for (const h of replicas) await h.stop();
      await demo.stop();
      await db.drop();
    });

    it('applies each logged change exactly once across the replicas', async () => {
      const [a, b] = replicas;
      await a.waitFor(() => [a, b].some(h => h.logs.find(/^Following authentik's event log from/).length > 0));
      let made = 0;
      for (let round = 0; round < 4; round++) {
        made += makeDirectoryChanges(demo.directory, 5, `replicas-${round}`);
        await new Promise(resolve => setTimeout(resolve, 700));
      }
      await catalogMatches(a);
      await catalogMatches(b);
      await a.waitFor(() => appliedEvents(a) + appliedEvents(b) >= made, { description: `${made} events applied` });
      await new Promise(resolve => setTimeout(resolve, 3 * POLL_INTERVAL_MS));
      expect(appliedEvents(a) + appliedEvents(b)).toBe(made);
    });
  });
});
