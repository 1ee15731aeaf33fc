/**
 * The removal guard per kind: a walk whose sweep would remove more than
 * `rejectRemovalsAbovePercentage` of the users (or of the groups) it had fails, removes
 * nothing and says why and how to fix it; the engine retries it, reading everything again,
 * and it completes (with its removals) once the share is under the threshold.
 */
import { seedDemoDirectory } from '../dev/demo-authentik';
import { startAuthentikTestBackend } from './harness/startAuthentikTestBackend';

const userNames = async (h: Awaited<ReturnType<typeof startAuthentikTestBackend>>) =>
  new Set((await h.getEntities()).filter(e => e.kind === 'User').map(e => e.metadata.name));

it('refuses a walk that would remove too many users, removes nothing, and completes once the share is under the guard', async () => {
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

    // 15 users leave authentik at once (no webhooks): 15 of the 23 users the walk still emits.
    for (const change of extra.slice(0, 15)) directory.deleteUser(Number(change.pk));
    const completed = h.completedWalks();
    await h.triggerWalk();
    await h.waitFor(() => h.logs.find(/authentik walk refused: it would remove 15 User entities/).length > 0, { timeoutMs: 20_000 });
    const refusal = h.logs.find(/authentik walk refused/)[0].text;
    expect(refusal).toMatch(/emitted \d+ User entities \(\d+% > incremental\.rejectRemovalsAbovePercentage 25%\)/);
    expect(refusal).toContain('raise incremental.rejectRemovalsAbovePercentage for one walk');
    expect(h.completedWalks()).toBe(completed);
    expect([...(await userNames(h))]).toEqual(expect.arrayContaining(leavers));
    expect((await h.providerStatus()).last_error).toContain('authentik walk refused');

    // The directory grows: 15 of 63 users is under the guard; the retried walk reads
    // everything again, completes, and its sweep removes the leavers.
    for (let i = 0; i < 40; i++) directory.addUser({ username: `joiner${i}`, name: `Joiner ${i}`, email: `j${i}@example.com` });
    await h.waitForCompletedWalk(completed, { timeoutMs: 30_000 });
    await h.waitFor(async () => {
      const names = await userNames(h);
      return leavers.every(name => !names.has(name)) && names.has('joiner39') && names.has('leaver19');
    });
  } finally {
    await h.stop();
  }
}, 120_000);
