/**
 * The incremental engine never retries a sweep its removal guard refused: the refused
 * entities would stay in the catalog forever. The module removes them at a later walk once
 * that walk confirms they are still gone and the guard would pass, and until then reports
 * them with the admin calls that remove them.
 */
import { seedDemoDirectory } from '../dev/demo-authentik';
import { startAuthentikTestBackend } from './harness/startAuthentikTestBackend';

const userNames = async (h: Awaited<ReturnType<typeof startAuthentikTestBackend>>) =>
  new Set((await h.getEntities()).filter(e => e.kind === 'User').map(e => e.metadata.name));

it('removes entities a refused sweep stranded, once a later walk confirms them gone and the guard passes', async () => {
  const directory = seedDemoDirectory();
  const extra = Array.from({ length: 20 }, (_, i) =>
    directory.addUser({ username: `leaver${i}`, name: `Leaver ${i}`, email: `leaver${i}@example.com` }),
  );
  // Webhooks only (and none sent): the event log would apply the deletions at once, and
  // only walks may see them here.
  const h = await startAuthentikTestBackend({
    directory,
    provider: { incremental: { rejectRemovalsAbovePercentage: 25 }, events: { mode: 'webhook' } },
  });
  try {
    const leavers = extra.slice(0, 15).map((_, i) => `leaver${i}`);
    await h.waitFor(async () => (await userNames(h)).has('leaver19'));
    expect([...(await userNames(h))]).toEqual(expect.arrayContaining(leavers));

    // 15 of 53 entities leave authentik at once (no webhooks, no event log): 15/38 = 39% > 25%.
    for (const change of extra.slice(0, 15)) directory.deleteUser(Number(change.pk));
    await h.runWalk();
    await h.waitFor(async () => (await h.providerStatus()).last_error?.includes('REMOVAL_THRESHOLD'));
    expect([...(await userNames(h))]).toEqual(expect.arrayContaining(leavers));

    // The next walk finds them stranded (the engine has forgotten them) but still too many
    // to remove: it says how to remove them by hand, and removes nothing.
    await h.runWalk();
    await h.waitFor(() => h.logs.find(/15 entities .* no longer in authentik/).length > 0);
    const report = h.logs.find(/15 entities .* no longer in authentik/)[0].message;
    expect(report).toMatch(/curl -X DELETE .*\/api\/catalog\/entities\/by-uid\/[0-9a-f-]{36} {2}# user:default\/leaver\d+/);
    expect([...(await userNames(h))]).toEqual(expect.arrayContaining(leavers));

    // The directory grows: 15 of 78 is under the guard, and the walk after that removes them.
    for (let i = 0; i < 40; i++) directory.addUser({ username: `joiner${i}`, name: `Joiner ${i}`, email: `j${i}@example.com` });
    await h.runWalk();
    await h.waitFor(async () => {
      const names = await userNames(h);
      return leavers.every(name => !names.has(name)) && names.has('joiner39') && names.has('leaver19');
    });
    expect(h.logs.find(/Removing 15 entities a refused sweep left behind/)).toHaveLength(1);
  } finally {
    await h.stop();
  }
}, 120_000);
