/**
 * Nothing is removed because a read failed. Faults are injected by a proxy in front of the
 * demo authentik while a real backend walks it or applies a webhook; the catalog is polled
 * throughout, and no live entity may leave it at any moment. Once the fault clears, the
 * next walk completes and the catalog matches authentik again.
 */
import type { Entity } from '@backstage/catalog-model';
import { DemoAuthentik, DemoDirectory, SEED_GROUPS, seedDemoDirectory, startDemoAuthentik } from '../dev/demo-authentik';
import { catalogDifferences, expectedCatalog } from './harness/expectedCatalog';
import { EMPTY_LIST, FaultProxy, FaultRule, HTML_404, InjectedAnswer, startFaultProxy } from './harness/faultProxy';
import {
  AuthentikTestBackend,
  describeIfPostgres,
  sleep,
  startAuthentikTestBackend,
  TestDatabase,
} from './harness/startAuthentikTestBackend';
import { groupModel, mappingBody, userModel } from './harness/webhookBodies';

const TOKEN = `tok-faults-${Date.now().toString(36)}`;
const SECRET = `whsec-faults-${Math.random().toString(36).slice(2)}`;
const PAGE_SIZE = 5;

const refOf = (e: Entity) => `${e.kind.toLowerCase()}:default/${e.metadata.name}`;

/** The seed plus enough users that the groups are a small share of the catalog (< 25 %). */
function directoryWithManyUsers(): DemoDirectory {
  const directory = seedDemoDirectory();
  const sales = directory.findGroupByName(SEED_GROUPS.sales)!.pk;
  for (let i = 0; i < 60; i++) {
    directory.addUser({ username: `extra.user${i}`, name: `Extra User ${i}`, email: `extra${i}@example.com`, groups: [sales] });
  }
  return directory;
}

interface Watch {
  /** Stops polling; returns every ref of `baseline` that was missing from some poll. */
  stop(): Promise<{ polls: number; missing: string[] }>;
}

/** Polls the catalog every ~100 ms and remembers every baseline ref that was ever missing. */
function watchCatalog(h: AuthentikTestBackend, baseline: Set<string>): Watch {
  const missing = new Set<string>();
  let polls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const present = new Set((await h.getEntities()).map(refOf));
      polls += 1;
      for (const ref of baseline) if (!present.has(ref)) missing.add(ref);
      await sleep(100);
    }
  })().catch(error => {
    running = false;
    missing.add(`(the catalog could not be read: ${(error as Error).message})`);
  });
  return {
    async stop() {
      running = false;
      await loop;
      return { polls, missing: [...missing].sort() };
    },
  };
}

function faultSuite(database: TestDatabase) {
  let demo: DemoAuthentik;
  let proxy: FaultProxy;
  let h: AuthentikTestBackend;
  let baseline: Set<string>;

  const matchesDirectory = async () =>
    h.waitFor(async () => catalogDifferences(await h.getEntities(), expectedCatalog(h.directory)).length === 0, {
      timeoutMs: 30_000,
      description: 'the catalog to match the demo directory',
    });

  /** Injects `rule`, runs `during` while the catalog is watched, clears the fault. */
  async function withFault(rule: FaultRule, during: () => Promise<void>) {
    const watch = watchCatalog(h, baseline);
    proxy.setRule(rule);
    let seen: Awaited<ReturnType<Watch['stop']>> | undefined;
    try {
      await during();
    } finally {
      proxy.setRule(undefined);
      seen = await watch.stop();
    }
    return seen;
  }

  beforeAll(async () => {
    demo = await startDemoAuthentik({ directory: directoryWithManyUsers(), token: TOKEN, latencyMs: 10 });
    proxy = await startFaultProxy(demo.url);
    h = await startAuthentikTestBackend({
      database,
      demo,
      token: TOKEN,
      webhookSecret: SECRET,
      provider: { baseUrl: proxy.url, incremental: { pageSize: PAGE_SIZE, concurrency: 3 } },
    });
    await matchesDirectory();
    baseline = new Set((await h.getEntities()).map(refOf));
  }, 60_000);

  afterEach(async () => {
    // A failed test must not leave the next one a damaged catalog: let a walk repair it.
    proxy?.setRule(undefined);
    proxy?.setRewrite(undefined);
    if (h && catalogDifferences(await h.getEntities(), expectedCatalog(h.directory)).length > 0) {
      await h.runWalk({ timeoutMs: 30_000 });
      await matchesDirectory();
    }
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
    await proxy?.stop();
    await demo?.stop();
  });

  it('the groups listing answers 200 with zero results while users are fine: no group leaves, the walk fails, then recovers', async () => {
    const failed = h.failedBursts();
    const completed = h.completedWalks();
    const { polls, missing } = await withFault(
      url => (url.pathname === '/api/v3/core/groups/' ? EMPTY_LIST : undefined),
      async () => {
        await h.triggerWalk();
        await h.waitFor(() => h.failedBursts() > failed || h.completedWalks() > completed, {
          timeoutMs: 30_000,
          description: 'the walk to fail (or complete) during the fault',
        });
        await sleep(1500); // a sweep, if any, lands right after the walk's last mark
      },
    );
    expect(polls).toBeGreaterThan(3);
    expect(missing).toEqual([]);
    expect(h.completedWalks()).toBe(completed);
    expect(h.logs.find(/no groups while/i).length).toBeGreaterThan(0);

    await h.waitForCompletedWalk(completed, { timeoutMs: 30_000 });
    await matchesDirectory();
  }, 90_000);

  it('an HTML 404 for a middle users page (an ingress during a deploy): no user leaves, the walk fails, then recovers', async () => {
    const failed = h.failedBursts();
    const completed = h.completedWalks();
    const { polls, missing } = await withFault(
      url => (url.pathname === '/api/v3/core/users/' && url.searchParams.get('page') === '5' ? HTML_404 : undefined),
      async () => {
        await h.triggerWalk();
        await h.waitFor(() => h.failedBursts() > failed || h.completedWalks() > completed, {
          timeoutMs: 30_000,
          description: 'the walk to fail (or complete) during the fault',
        });
        await sleep(1500);
      },
    );
    expect(polls).toBeGreaterThan(3);
    expect(missing).toEqual([]);
    expect(h.completedWalks()).toBe(completed);
    expect(h.logs.find(/404 that is not authentik's/).length).toBeGreaterThan(0);

    await h.waitForCompletedWalk(completed, { timeoutMs: 30_000 });
    await matchesDirectory();
  }, 90_000);

  it('an HTML 404 when a webhook\'s changed user is re-read: the user stays; after the fault the next walk completes', async () => {
    const user = h.directory.findUserByUsername('extra.user7')!;
    const userPath = `/api/v3/core/users/${user.pk}/`;
    let reReads = 0;
    const { polls, missing } = await withFault(
      url => {
        if (url.pathname !== userPath) return undefined;
        reReads += 1;
        return HTML_404;
      },
      async () => {
        const response = await h.postWebhook(mappingBody('model_updated', userModel(user)));
        expect(response.status).toBe(202);
        await h.waitFor(() => reReads >= 1, { timeoutMs: 10_000, description: 'the user to be re-read' });
        await sleep(5000); // the client retries, then the handler retries: the fault outlasts both tries

      },
    );
    expect(polls).toBeGreaterThan(3);
    expect(missing).toEqual([]);

    await h.runWalk({ timeoutMs: 30_000 });
    await matchesDirectory();
  }, 90_000);

  it('a groups listing that lost most groups (a partial view): the walk is refused per kind, no group leaves; it recovers', async () => {
    const failed = h.failedBursts();
    const completed = h.completedWalks();
    const partial = await partialGroupListing(demo, 2);
    const { polls, missing } = await withFault(
      url => (url.pathname === '/api/v3/core/groups/' ? partial : undefined),
      async () => {
        await h.triggerWalk();
        await h.waitFor(() => h.failedBursts() > failed || h.completedWalks() > completed, {
          timeoutMs: 30_000,
          description: 'the walk to fail (or complete) during the fault',
        });
        await sleep(1500);
      },
    );
    expect(polls).toBeGreaterThan(3);
    expect(missing).toEqual([]);
    expect(h.completedWalks()).toBe(completed);
    expect(h.logs.find(/would remove \d+ Group entities/).length).toBeGreaterThan(0);

    await h.waitForCompletedWalk(completed, { timeoutMs: 30_000 });
    await matchesDirectory();
  }, 90_000);

  it('a user the user list hides from a walk (a deletion and a creation shifted it) is read again and kept, not swept', async () => {
    const completed = h.completedWalks();
    const hidden = 'extra.user17';
    const watch = watchCatalog(h, baseline);
    // Same count, one user fewer on its page: what page numbers show a walk when a deletion
    // and a creation land together while its window is in flight.
    proxy.setRewrite((url, body) => {
      if (url.pathname !== '/api/v3/core/users/') return body;
      const page = body as { results?: Array<{ username: string }> };
      return page.results ? { ...page, results: page.results.filter(user => user.username !== hidden) } : body;
    });
    try {
      await h.triggerWalk();
      await h.waitForCompletedWalk(completed, { timeoutMs: 30_000 });
      await sleep(1500);
    } finally {
      proxy.setRewrite(undefined);
    }
    const { polls, missing } = await watch.stop();
    expect(polls).toBeGreaterThan(3);
    expect(missing).toEqual([]);
    expect(h.logs.find(/did not see 1 user\(s\) that authentik still holds/).length).toBe(1);
    await matchesDirectory();
  }, 90_000);

  it('a webhook about a group while the groups listing answers an empty 200: the delta removes no group', async () => {
    const group = h.directory.findGroupByName(SEED_GROUPS.design)!;
    let listings = 0;
    const { polls, missing } = await withFault(
      url => {
        // The planner reads the changed group, and the whole list only when its copy of the
        // directory is missing or stale: any groups read counts, every listing is empty.
        if (!url.pathname.startsWith('/api/v3/core/groups/')) return undefined;
        listings += 1;
        return url.pathname === '/api/v3/core/groups/' ? EMPTY_LIST : undefined;
      },
      async () => {
        const response = await h.postWebhook(mappingBody('model_updated', groupModel(group)));
        expect(response.status).toBe(202);
        await h.waitFor(() => listings >= 1, { timeoutMs: 10_000, description: 'the groups to be re-read' });
        await sleep(3000);
      },
    );
    expect(polls).toBeGreaterThan(3);
    expect(missing).toEqual([]);
    await h.runWalk({ timeoutMs: 30_000 });
    await matchesDirectory();
  }, 90_000);
}

describe('faults while reading authentik (SQLite)', () => faultSuite('sqlite'));
describeIfPostgres('faults while reading authentik (PostgreSQL)', () => faultSuite('postgres'));

/** authentik's first groups page, cut down to its first `keep` groups (a consistent, partial list). */
async function partialGroupListing(demo: DemoAuthentik, keep: number): Promise<InjectedAnswer> {
  const response = await fetch(`${demo.url}/api/v3/core/groups/?ordering=pk&page=1&page_size=100&include_users=false`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const page = (await response.json()) as { results: unknown[] };
  return {
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({
      pagination: { next: 0, previous: 0, count: keep, current: 1, total_pages: 1, start_index: 1, end_index: keep },
      results: page.results.slice(0, keep),
      autocomplete: {},
    }),
  };
}
