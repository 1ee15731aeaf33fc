/**
 * TWO real backend processes (catalog + incremental ingestion + events backend + this
 * module, `test/replicas/replicaBackend.ts`, spawned with `node --import tsx`) sharing ONE
 * set of PostgreSQL databases (`bs_replicas_<random>_<plugin>`, dropped afterwards), fed by
 * one demo authentik running in this test process (so its requests are counted and its
 * directory mutated here). Each replica is configured by its own temp YAML (`--config`).
 *
 * Properties shown (each assertion fails if the property breaks):
 *  1. one walk per cycle, not one per replica: one walk id, one ingestion, one completion
 *     line across both replicas, and authentik requests equal to one walk's pages (+ the
 *     documented re-reads of any burst resumed on the other replica), nothing afterwards;
 *  2. a walk's bursts run on both replicas, each continuing from the stored cursor
 *     (`Resuming authentik walk <id> at page n>1` at every change of replica, both ways),
 *     with every user present, nothing swept, and colliding usernames named as a single
 *     replica names them. The scheduler alone keeps giving bursts to whichever replica polls
 *     first after each 5 s slot, so the test freezes (SIGSTOP) the replica that just ended a
 *     burst to make the other one take the next, then thaws it (SIGCONT);
 *  3. a webhook delivered to either replica is planned exactly once, on that replica, and
 *     its change is visible through both replicas' catalog APIs;
 *  4. SIGKILL of the replica that is bursting, mid-walk, loses nothing: the lock it holds
 *     expires (burstLength + 1 min), the survivor's scheduler janitor (every 60 s; disabled
 *     under NODE_ENV=test, so replicas run with NODE_ENV=production) releases it, and the
 *     survivor completes the same walk with every user present and nothing removed.
 *
 * Runtime ≈ 3–3.5 min, dominated by (4): 61–121 s between the kill and the release.
 * Replica logs (JSON lines) go to a temp directory, kept and printed only on failure.
 *
 * Without PostgreSQL one passing `SKIPPED: …` test is registered (and a loud warning
 * printed), see `describeIfPostgres`; with CI_REQUIRE_POSTGRES=1 it fails instead.
 */
import { randomBytes } from 'node:crypto';
import { DemoDirectory, generateSyntheticDirectory } from '../dev/demo-authentik';
import { describeIfPostgres } from './harness/postgres';
import {
  diffPks,
  expectedUserPks,
  LOG,
  ReplicaCluster,
  sleep,
  waitUntil,
} from './replicas/cluster';
import type { ReplicaProcess } from './replicas/replicaProcess';

// ---- the directory: a few thousand users, many bursts per walk -------------------------

const USERS = 2400;
const GROUPS = 40;
const PAGE_SIZE = 100;
/**
 * Demo latency per API request. The first walk is bound by the catalog storing thousands of
 * new entities (~200 ms a page here): ~5 bursts. Later walks re-emit unchanged entities, ~50 ms
 * a page: the latency keeps them at ~5 bursts too.
 */
const FIRST_WALK_LATENCY_MS = 20;
const LATER_WALK_LATENCY_MS = 200;
/** One user in COLLIDE_EVERY gets a username that a late user (highest pks) collides with. */
const COLLIDE_EVERY = 50;

interface CollisionPair {
  /** The older user: keeps `collide-<pk>`. */
  older: number;
  /** The newer user, `Collide-<older pk>`: must be named `collide-<older>-<newer>`. */
  newer: number;
}

function buildDirectory(): { directory: DemoDirectory; pairs: CollisionPair[] } {
  const directory = generateSyntheticDirectory({ users: USERS, groups: GROUPS, seed: 20240611 });
  const eligible = [...directory.userRecords()].filter(u => u.is_active && (u.type === 'internal' || u.type === 'external'));
  const pairs: CollisionPair[] = [];
  let nextPk = USERS + 1;
  for (let i = 3; i < eligible.length; i += COLLIDE_EVERY) {
    const older = eligible[i].pk;
    directory.updateUser(older, { username: `collide-${older}` });
    const newer = nextPk++;
    directory.addUser({
      pk: newer,
      username: `Collide-${older}`,
      name: `Late Collider ${older}`,
      email: `late-${older}@synthetic.example`,
      type: 'internal',
    });
    pairs.push({ older, newer });
  }
  return { directory, pairs };
}

/**
 * authentik requests of reading every group: `readAllGroups` reads the list twice and
 * accepts it when both passes agree (the directory does not change during these walks).
 */
function requestsOfGroups(groups: number): number {
  return 2 * Math.max(1, Math.ceil(groups / PAGE_SIZE));
}

/** Pages per window of the walk at concurrency 1 (a window is 2 × concurrency pages). */
const WINDOW_PAGES = 2;

/** authentik requests of ONE complete, uninterrupted walk (concurrency 1). */
function requestsOfOneWalk(eligibleUsers: number, groups: number): number {
  const userPages = Math.max(1, Math.ceil(eligibleUsers / PAGE_SIZE));
  const windows = Math.ceil(userPages / WINDOW_PAGES);
  // The first window alone, then every window with its anchor (the page before it); the
  // last window asks for its pages past the end too.
  return requestsOfGroups(groups) + WINDOW_PAGES + (WINDOW_PAGES + 1) * (windows - 1);
}

/** Extra requests of a burst that resumes a walk at `page` in a process without its state. */
function requestsOfResume(page: number, groups: number): number {
  // Re-reads the groups and pages 1..page-1 to rebuild the name claims.
  return requestsOfGroups(groups) + (page > 1 ? 1 + 2 * (page - 2) : 0);
}

function eventPk(): string {
  return randomBytes(16).toString('hex');
}

function userWebhook(pk: number, name: string, loggedEventPk = eventPk()) {
  return {
    version: 1,
    event_pk: loggedEventPk,
    action: 'model_updated',
    created: new Date().toISOString(),
    model: { pk, app: 'authentik_core', name, model_name: 'user' },
  };
}

describeIfPostgres('authentik ingestion with two backend replicas on one PostgreSQL', () => {
  const { directory, pairs } = buildDirectory();
  const expected = expectedUserPks(directory);
  const cluster = new ReplicaCluster({
    directory,
    latencyMs: FIRST_WALK_LATENCY_MS,
    pageSize: PAGE_SIZE,
    burstLengthMs: 1000,
    replicas: ['A', 'B'],
  });
  const ONE_WALK = requestsOfOneWalk(expected.size, GROUPS);
  const t0 = Date.now();
  const secs = (at: number) => `${((at - t0) / 1000).toFixed(1)}s`;
  const report: string[] = [];
  const note = (line: string) => {
    report.push(line);
  };

  let failed = false;

  /** Runs a test body; on failure prints where the replicas' logs are (kept) and their tails. */
  async function withDiagnostics(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      failed = true;
      // eslint-disable-next-line no-console
      console.error(
        [
          `Replica logs: ${cluster.runDir}`,
          `Notes so far:\n  ${report.join('\n  ')}`,
          ...cluster.all().map(r => r.tail(25)),
        ].join('\n'),
      );
      throw error;
    }
  }

  /** Waits until the catalog, read through `via`, holds exactly the expected users. */
  async function expectAllUsers(via: ReplicaProcess, what: string, timeoutMs = 60_000): Promise<void> {
    await waitUntil(
      async () => {
        const d = diffPks(await cluster.catalogUsers(via), expected);
        if (d.missing.length || d.unexpected.length || d.duplicated.length) {
          throw new Error(
            `${d.missing.length} missing (e.g. ${d.missing.slice(0, 5).join(', ')}), ${d.unexpected.length} unexpected, ${d.duplicated.length} duplicated`,
          );
        }
        return true;
      },
      timeoutMs,
      `${what}: every expected user in the catalog via ${via.name}`,
      1000,
    );
  }

  /** The older user of each colliding pair keeps `collide-<pk>`, the newer one is suffixed. */
  async function expectPairsNamed(via: ReplicaProcess, what: string): Promise<void> {
    await waitUntil(
      async () => {
        const byName = new Map((await cluster.catalogUsers(via)).map(u => [u.name, u.pk]));
        const wrong = pairs.filter(
          p => byName.get(`collide-${p.older}`) !== String(p.older) || byName.get(`collide-${p.older}-${p.newer}`) !== String(p.newer),
        );
        if (wrong.length) throw new Error(`${wrong.length} of ${pairs.length} colliding pairs misnamed, e.g. ${JSON.stringify(wrong[0])}`);
        return true;
      },
      45_000,
      `${what}: colliding users named deterministically via ${via.name}`,
      1000,
    );
  }

  /** The engine's sweep at the end of an ingestion: how many entities it removed (one line). */
  async function removedAtEndOf(ingestion: string): Promise<number> {
    const lines = await waitUntil(
      () => {
        const found = cluster.matches(LOG.removing).filter(m => m.match[1] === ingestion);
        return found.length > 0 ? found : undefined;
      },
      15_000,
      `the end-of-walk sweep of ingestion ${ingestion}`,
      100,
    );
    expect(lines).toHaveLength(1);
    return Number(lines[0].match[2]);
  }

  /** Waits until no replica holds the provider's task lock. */
  async function lockFree(): Promise<void> {
    await waitUntil(async () => (await cluster.taskLock()).ticket === null, 10_000, 'the provider task lock to be free', 50);
  }

  /** Ingestion ids seen in burst lines (in order of first appearance). */
  function ingestions(): string[] {
    return [...new Set(cluster.matches(LOG.burstStart).map(m => m.match[1]))];
  }

  /** Waits for a NEW ingestion (after a trigger) and its walk id; returns both. */
  async function waitForNewWalk(previousWalks: Set<string>): Promise<{ walkId: string; replica: ReplicaProcess }> {
    const found = await waitUntil(
      () => cluster.matches(LOG.walkGroups).find(m => !previousWalks.has(m.match[1])),
      40_000,
      'a new walk to start',
      100,
    );
    return { walkId: found.match[1], replica: cluster.replica(found.replica) };
  }

  beforeAll(async () => {
    failed = true; // until the replicas are up
    await cluster.start();
    failed = false;
    note(`replicas ready: ${cluster.all().map(r => `${r.name} pid ${r.pid} at ${secs(r.records.find(x => /^REPLICA_READY/.test(x.message))!.at)}`).join(', ')}; logs in ${cluster.runDir} (kept on failure)`);
  }, 180_000);

  afterAll(async () => {
    await cluster.stop({ keepLogs: failed });
    // eslint-disable-next-line no-console
    console.log(`Replica test notes (${secs(Date.now())} total):\n  ${report.join('\n  ')}`);
  }, 60_000);

  let walk1 = '';

  it('1. runs one walk per cycle, not one per replica', () =>
    withDiagnostics(async () => {
      const { match, replica: finisher } = await cluster.waitForAny(LOG.walkComplete, 150_000);
      walk1 = match[1];
      const completedAt = Date.now();
      expect(Number(match[2])).toBe(expected.size);

      // Both replicas were up with the provider registered while the walk ran.
      for (const r of cluster.all()) {
        const registered = r.matches(/^Registered scheduled task: authentik:default/)[0];
        expect(registered).toBeDefined();
        expect(registered.record.at).toBeLessThan(completedAt);
      }

      // Nothing else starts: a replica with its own walk would be reading authentik now.
      // (Directory requests only: the event-log follower polls the log now and then.)
      const requestsAtCompletion = cluster.demo.directoryRequests;
      await sleep(7000);
      const requests = cluster.demo.directoryRequests;
      expect(requests).toBe(requestsAtCompletion);

      // One walk id, one ingestion, one completion line across both replicas.
      const started = cluster.matches(LOG.walkGroups).map(m => m.match[1]);
      expect(started).toEqual([walk1]);
      expect(cluster.matches(LOG.walkComplete).map(m => m.match[1])).toEqual([walk1]);
      expect(ingestions()).toHaveLength(1);
      expect(await removedAtEndOf(ingestions()[0])).toBe(0);

      // authentik requests: one walk's pages, plus the documented re-read of any burst that a
      // replica resumed without the walk's state (the scheduler usually keeps one replica).
      const resumes = cluster.matches(LOG.resuming).filter(m => m.match[1] === walk1);
      const resumeCost = resumes.reduce((sum, m) => sum + requestsOfResume(Number(m.match[2]), GROUPS), 0);
      const bursts = cluster.matches(LOG.burstStart);
      const byReplica = (name: string) => bursts.filter(b => b.replica === name).length;
      note(
        `walk 1 ${walk1}: completed by ${finisher.name} at ${secs(completedAt)}; bursts A=${byReplica('A')} B=${byReplica('B')}; ` +
          `authentik requests ${requests} (one walk = ${ONE_WALK}, resumes ${resumes.length} costing ${resumeCost})`,
      );
      // Each burst after the first also re-reads its predecessor's last window (the provider
      // re-marks it, in case a replica died between the engine's mark writes): a window and
      // its anchor.
      const rewindCost = (WINDOW_PAGES + 1) * Math.max(0, bursts.length - 1);
      // A burst reads the next window while the engine stores the current one, unless it
      // predicts that the engine ends the burst there; a wrong prediction costs that window
      // and its anchor, at most once per burst.
      const readAheadCost = (WINDOW_PAGES + 1) * Math.max(0, bursts.length - 1);
      expect(requests).toBeGreaterThanOrEqual(ONE_WALK);
      expect(requests).toBeLessThanOrEqual(ONE_WALK + resumeCost + rewindCost + readAheadCost + 2);
      expect(requests).toBeLessThan(1.5 * ONE_WALK + resumeCost);

      // The catalog holds exactly the expected users, read through either replica.
      await expectAllUsers(cluster.replica('B'), 'walk 1');
      await expectAllUsers(cluster.replica('A'), 'walk 1');
      note(`walk 1: all ${expected.size} users in the catalog via A and B at ${secs(Date.now())}`);
    }), 200_000);

  it('2. continues a walk on the other replica from the stored cursor, in both directions', () =>
    withDiagnostics(async () => {
      expect(walk1).not.toBe('');
      cluster.setLatency(LATER_WALK_LATENCY_MS);
      const since = cluster.mark();
      await cluster.triggerWalk(cluster.replica('A'));
      const { walkId: walk2 } = await waitForNewWalk(new Set([walk1]));
      const ingestion2 = ingestions().at(-1)!;

      /**
       * Hands the walk to the other replica: when the next burst ends (and its lock is
       * released), freeze the replica that ran it, so that the other replica's scheduler
       * claims the following burst; thaw it once that burst has ended. The scheduler alone
       * keeps giving every burst to the replica whose poll comes first after each 5 s slot,
       * so without this two replicas rarely share a walk.
       */
      async function handOver(): Promise<string> {
        for (let attempt = 0; attempt < 5; attempt++) {
          const mark = cluster.mark();
          const { replica: from } = await cluster.waitForAny(LOG.burstEnd, 20_000, mark);
          const to = cluster.all().find(r => r !== from)!;
          await lockFree();
          from.pause();
          try {
            if ((await cluster.taskLock()).ticket !== null) continue; // it claimed again already
            await to.waitForMessage(LOG.burstStart, 20_000, mark.get(to.name));
            await to.waitForMessage(LOG.burstEnd, 20_000, mark.get(to.name));
            return `${from.name}→${to.name}`;
          } finally {
            from.resume();
          }
        }
        throw new Error(`could not hand walk ${walk2} over to the other replica`);
      }
      const handovers = [await handOver(), await handOver()];

      const { match } = await cluster.waitForAny(LOG.walkComplete, 120_000, since);
      expect(match[1]).toBe(walk2);
      expect(Number(match[2])).toBe(expected.size);
      const sequence = cluster.matches(LOG.burstStart).filter(m => m.match[1] === ingestion2).map(b => b.replica);
      const switches = sequence.filter((r, i) => i > 0 && r !== sequence[i - 1]).length;
      const resumes = cluster.matches(LOG.resuming).filter(m => m.match[1] === walk2);
      const resumePages = resumes.map(m => `${m.replica}@${m.match[2]}`);
      note(`walk 2 ${walk2}: bursts ${sequence.join('')}, forced handovers ${handovers.join(', ')}, resumes ${resumePages.join(', ')}`);

      // Nothing swept; every user, and every colliding pair named as one replica walking
      // alone names it (a replica continuing with name claims that miss the other replica's
      // users hands a taken name to a second user, which replaces the first in the catalog).
      expect(await removedAtEndOf(ingestion2)).toBe(0);
      await expectAllUsers(cluster.replica('A'), 'walk 2');
      await expectPairsNamed(cluster.replica('B'), 'walk 2');

      // The same walk and ingestion throughout: nothing restarted, one completion.
      expect(cluster.matches(LOG.walkGroups).filter(m => m.match[1] === walk2)).toHaveLength(1);
      expect(cluster.matches(LOG.walkComplete).filter(m => m.match[1] === walk2)).toHaveLength(1);
      // Both directions: A→B and B→A (or the reverse) within this one walk.
      expect(switches).toBeGreaterThanOrEqual(2);
      // Every switch resumed from the stored cursor, mid-walk: a burst on the other replica
      // found a cursor its own state (if any) was behind, rebuilt it and read on from there.
      // (A switch after which the other replica only re-emitted the previous batch, as every
      // burst first does, leaves the cursor where this replica left it: no rebuild needed.)
      // A replica that takes a burst after the other one advanced the walk rebuilds its state
      // from the stored cursor ("Resuming … at page n"). When the other one only re-emitted
      // the previous batch (as every burst starts), nothing moved and no rebuild is needed, so
      // which replica logs resumes depends on timing; at least one mid-walk resume must exist.
      expect(resumes.length).toBeGreaterThanOrEqual(1);
      expect(resumes.length).toBeLessThanOrEqual(switches);
      expect(new Set(sequence)).toEqual(new Set(['A', 'B']));
      for (const m of resumes) expect(Number(m.match[2])).toBeGreaterThan(1);

      note(`walk 2: all users and ${pairs.length} colliding pairs correct at ${secs(Date.now())}`);
    }), 200_000);

  it('3. applies a webhook delivered to either replica exactly once', () =>
    withDiagnostics(async () => {
      const candidates = [...directory.userRecords()].filter(
        u => expected.has(String(u.pk)) && !u.username.toLowerCase().startsWith('collide-'),
      );
      const [userA, userB] = [candidates[10], candidates[candidates.length - 10]];
      const suffix = randomBytes(3).toString('hex');
      const nameA = `Renamed Via A ${suffix}`;
      const nameB = `Renamed Via B ${suffix}`;
      // The deliveries carry the pks of the events authentik's log recorded, as real ones do:
      // the event-log follower (mode "both") must see them as already applied.
      const logged = cluster.demo.eventLog.size;
      directory.updateUser(userA.pk, { name: nameA });
      directory.updateUser(userB.pk, { name: nameB });
      const [eventA, eventB] = cluster.demo.eventLog.all().slice(logged).map(event => event.pk);

      const since = cluster.mark();
      const requestsBefore = cluster.demo.directoryRequests;
      const a = cluster.replica('A');
      const b = cluster.replica('B');
      expect(await cluster.postWebhook(a, userWebhook(userA.pk, nameA, eventA))).toBe(202);
      expect(await cluster.postWebhook(b, userWebhook(userB.pk, nameB, eventB))).toBe(202);

      // Visible through both replicas' catalog APIs.
      for (const via of [a, b]) {
        await waitUntil(
          async () => {
            const users = new Map((await cluster.catalogUsers(via)).map(u => [u.pk, u.displayName]));
            return users.get(String(userA.pk)) === nameA && users.get(String(userB.pk)) === nameB;
          },
          30_000,
          `both renames via ${via.name}`,
          500,
        );
      }
      // Give a duplicate plan (on the other replica, through the database event bus) time
      // to show up before counting, and each plan's confirmation read (3 s later) its turn.
      await sleep(6000);

      const plans = cluster.all().flatMap(r =>
        r.records
          .slice(since.get(r.name))
          .map(record => ({ replica: r.name, match: LOG.changes.exec(record.message) }))
          .filter((x): x is { replica: string; match: RegExpExecArray } => x.match !== null),
      );
      note(`webhooks: plans ${plans.map(p => `${p.replica}: ${p.match[0]}`).join(' | ')}; demo requests +${cluster.demo.directoryRequests - requestsBefore}`);
      // Exactly one plan per delivery, on the replica that received it, one user each.
      expect(plans.map(p => `${p.replica}:${p.match[1]}:${p.match[2]}`).sort()).toEqual(['A:1 user(s):1', 'B:1 user(s):1']);
      // authentik was read only by those two plans and their confirmation reads.
      const confirmations = cluster.all().flatMap(r =>
        r.records
          .slice(since.get(r.name))
          .map(record => LOG.confirmation.exec(record.message))
          .filter((m): m is RegExpExecArray => m !== null),
      );
      const planned = [...plans.map(p => p.match), ...confirmations].reduce((sum, m) => sum + Number(m[4]), 0);
      expect(cluster.demo.directoryRequests - requestsBefore).toBe(planned);
    }), 90_000);

  it('4. loses nothing when the bursting replica is killed (SIGKILL) mid-walk', () =>
    withDiagnostics(async () => {
      await expectAllUsers(cluster.replica('A'), 'before the kill', 10_000);
      const walksBefore = new Set(cluster.matches(LOG.walkGroups).map(m => m.match[1]));
      const since = cluster.mark();
      await cluster.triggerWalk(cluster.replica('B'));
      const { walkId: walk3 } = await waitForNewWalk(walksBefore);
      const ingestion3 = ingestions().at(-1)!;

      // The first burst after the one that read the groups: the walk is mid-way through users.
      const groupsBurstEnd = await cluster.waitForAny(LOG.burstEnd, 20_000, since);
      const afterGroups = cluster.mark();
      const { replica: victim, record: burstStart } = await cluster.waitForAny(LOG.burstStart, 20_000, afterGroups);
      await victim.kill('SIGKILL');
      const killedAt = Date.now();
      // What is left of the walk needs no more bursts than it takes: let it finish quickly.
      cluster.setLatency(FIRST_WALK_LATENCY_MS);
      const lock = await cluster.taskLock();
      const survivor = cluster.all().find(r => r !== victim)!;
      note(
        `walk 3 ${walk3}: groups burst on ${groupsBurstEnd.replica.name}; killed ${victim.name} ${killedAt - burstStart.at} ms into its burst ` +
          `(lock ${lock.ticket ? `held until ${lock.expiresAt?.toISOString()}` : 'FREE'})`,
      );
      // Killed while bursting: the dead replica still holds the scheduler's lock.
      expect(lock.ticket).not.toBeNull();
      expect(victim.matches(LOG.walkComplete).filter(m => m.match[1] === walk3)).toHaveLength(0);

      // Meanwhile nothing is removed: the catalog still has every user.
      await expectAllUsers(survivor, 'while the lock is held', 10_000);

      // The survivor's janitor releases the expired lock, then its scheduler runs the walk on.
      const released = await survivor.waitForMessage(LOG.taskLost, 150_000, since.get(survivor.name));
      const afterRelease = survivor.records.indexOf(released);
      const burstAfter = await survivor.waitForMessage(LOG.burstStart, 30_000, afterRelease);
      expect(LOG.burstStart.exec(burstAfter.message)![1]).toBe(ingestion3);
      const completed = await survivor.waitForMessage(LOG.walkComplete, 90_000, afterRelease);
      const completeMatch = LOG.walkComplete.exec(completed.message)!;
      expect(completeMatch[1]).toBe(walk3);
      expect(Number(completeMatch[2])).toBe(expected.size);
      const resumed = survivor.matches(LOG.resuming).find(m => m.record.at >= burstAfter.at && m.match[1] === walk3);
      if (resumed) expect(Number(resumed.match[2])).toBeGreaterThan(1);
      note(
        `walk 3: lock released by ${survivor.name}'s janitor ${((released.at - killedAt) / 1000).toFixed(1)} s after the kill; ` +
          `next burst on ${survivor.name} ${((burstAfter.at - killedAt) / 1000).toFixed(1)} s after` +
          `${resumed ? ` (resumed at page ${resumed.match[2]})` : ' (its own state was current: no resume)'}; ` +
          `walk complete ${((completed.at - killedAt) / 1000).toFixed(1)} s after the kill`,
      );

      // Same walk, same ingestion, nothing removed, nothing rejected, every user present.
      expect(cluster.matches(LOG.walkGroups).filter(m => m.match[1] === walk3)).toHaveLength(1);
      expect(await removedAtEndOf(ingestion3)).toBe(0);
      expect(cluster.matches(LOG.rejectedRemoval)).toHaveLength(0);
      await expectAllUsers(survivor, 'after the walk the survivor completed', 30_000);
      await expectPairsNamed(survivor, 'after the walk the survivor completed');
      // Still true a little later (a late sweep or stranded-entity repair would show here).
      await sleep(5000);
      await expectAllUsers(survivor, 'a little later', 10_000);
    }), 300_000);
});
