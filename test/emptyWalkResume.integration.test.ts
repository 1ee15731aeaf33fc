/**
 * Regression: when authentik lists an EMPTY directory (a token that sees nothing) the walk
 * must fail in its groups phase, so that the engine, which resumes a failed walk from its
 * last mark, emits the groups again once authentik recovers. Before the fix the walk failed
 * only after the users phase, the resumed cycle completed with every user and no group, and
 * its sweep deleted every group (or was refused by the removal guard).
 */
import { seedDemoDirectory } from '../dev/demo-authentik';
import { catalogDifferences, expectedCatalog } from './harness/expectedCatalog';
import { sleep, startAuthentikTestBackend } from './harness/startAuthentikTestBackend';

const EMPTY_PAGE = {
  pagination: { next: 0, previous: 0, count: 0, current: 1, total_pages: 1, start_index: 0, end_index: 0 },
  results: [],
  autocomplete: {},
};

async function emptyThenRecovered(extraUsers: number) {
  const directory = seedDemoDirectory();
  const someGroup = directory.findGroupByName('Sales')!.pk;
  for (let i = 0; i < extraUsers; i++) {
    directory.addUser({ username: `extra.user${i}`, name: `Extra User ${i}`, email: `extra${i}@example.com`, groups: [someGroup] });
  }
  const h = await startAuthentikTestBackend({ directory });
  try {
    await h.waitFor(async () => catalogDifferences(await h.getEntities(), expectedCatalog(h.directory)).length === 0, {
      timeoutMs: 20_000,
    });
    const failed = h.failedBursts();
    const completed = h.completedWalks();
    h.demo.failNext(1_000_000, 200, EMPTY_PAGE); // a token that sees nothing
    await h.triggerWalk();
    await h.waitFor(() => h.failedBursts() > failed, { timeoutMs: 15_000 });

    h.demo.failNext(0, 200); // authentik sees everything again; the engine resumes the cycle
    await h.waitForCompletedWalk(completed);
    await sleep(2000);
    return {
      lastError: (await h.providerStatus()).last_error ?? null,
      differences: catalogDifferences(await h.getEntities(), expectedCatalog(h.directory)),
    };
  } finally {
    await h.stop();
  }
}

// The engine keeps the last burst's error (the empty directory) after the walk recovers;
// what matters is that no sweep was refused and nothing is missing.
it('seed directory: the resumed cycle neither refuses its sweep nor loses anything', async () => {
  const { lastError, differences } = await emptyThenRecovered(0);
  expect(differences).toEqual([]);
  expect(String(lastError)).not.toContain('REMOVAL_THRESHOLD');
}, 60_000);

it('a directory with few groups and many users: the resumed cycle does not delete every group', async () => {
  const { lastError, differences } = await emptyThenRecovered(60);
  expect(differences).toEqual([]);
  expect(String(lastError)).not.toContain('REMOVAL_THRESHOLD');
}, 60_000);
