import { randomUUID } from 'node:crypto';
import knexFactory, { Knex } from 'knex';
import { MemoryEventLog as FakeEventLog } from '../__testUtils__/MemoryEventLog';
import { ChangeSet } from '../events/DeltaPlanner';
import { EventLogFollower, EventLogFollowerOptions, EventLogGap } from './EventLogFollower';
import { EventLogStore } from './EventLogStore';
import { WalkRequestOutcome } from './FullWalkRequester';

const GROUP_PK = '6f1c2b3a-4d5e-4f60-8a9b-0c1d2e3f4a5b';

interface Harness {
  log: FakeEventLog;
  store: EventLogStore;
  applied: ChangeSet[];
  walks: number;
  gaps: EventLogGap[];
  warnings: string[];
  follower(overrides?: Partial<EventLogFollowerOptions>): EventLogFollower;
  failNextApply(): void;
}

let db: Knex;
beforeEach(() => {
  db = knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
});
afterEach(() => db.destroy());

function harness(log = new FakeEventLog()): Harness {
  const store = new EventLogStore(async () => db);
  let failApply = false;
  const h: Harness = {
    log,
    store,
    applied: [],
    walks: 0,
    gaps: [],
    warnings: [],
    failNextApply: () => {
      failApply = true;
    },
    follower: overrides =>
      new EventLogFollower({
        instanceId: 'default',
        api: log,
        store,
        apply: async changes => {
          if (failApply) {
            failApply = false;
            throw new Error('authentik is unavailable');
          }
          h.applied.push(changes);
        },
        requestWalk: async (): Promise<WalkRequestOutcome> => {
          h.walks++;
          return 'started';
        },
        logger: {
          info: () => undefined,
          debug: () => undefined,
          error: () => undefined,
          warn: (message: string) => h.warnings.push(message),
          child: () => undefined as never,
        },
        pageSize: 2,
        maxOutageMs: 3_600_000,
        now: () => log.clock,
        observer: { onGap: reason => h.gaps.push(reason) },
        ...overrides,
      }),
  };
  return h;
}

const users = (changes: ChangeSet[]) => changes.map(c => [...c.users].sort());

describe('EventLogFollower', () => {
  it('starts at the newest event without replaying the past (the first walk covers it)', async () => {
    const h = harness();
    h.log.add('user', 1);
    const newest = h.log.add('user', 2);
    await h.follower().poll();
    expect(h.applied).toEqual([]);
    expect((await h.store.watermark('default'))?.eventPk).toBe(newest.pk.replace(/-/g, ''));
  });

  it('applies the users and groups changed since the watermark once, across pages, then nothing more', async () => {
    const h = harness();
    h.log.add('user', 1);
    const follower = h.follower();
    await follower.poll();
    h.log.add('user', 2);
    h.log.add('group', GROUP_PK, 'model_created', 'devs');
    h.log.add('token', 'ak-token', 'model_created');
    h.log.add('user', 3, 'model_deleted');
    h.log.add('user', 4, 'login');
    await follower.poll();
    expect(users(h.applied)).toEqual([['2', '3']]);
    expect([...h.applied[0].groups]).toEqual([GROUP_PK.replace(/-/g, '')]);
    expect([...(h.applied[0].groupNames ?? [])]).toEqual(['devs']);
    await follower.poll();
    expect(h.applied).toHaveLength(1);
    expect(h.gaps).toEqual([]);
  });

  it("says since when the applied changes happened: the oldest applied event's created", async () => {
    const h = harness();
    h.log.add('user', 1);
    const follower = h.follower();
    await follower.poll();
    const oldest = h.log.add('user', 2);
    h.log.add('user', 3);
    h.log.add('group', GROUP_PK);
    await follower.poll();
    expect(h.applied.map(c => c.since)).toEqual([Date.parse(oldest.created)]);
  });

  it('pages past events added while it reads (pages shift down) without losing or repeating one', async () => {
    const h = harness();
    h.log.add('user', 1);
    const follower = h.follower();
    await follower.poll();
    for (let pk = 10; pk < 17; pk++) h.log.add('user', pk);
    h.log.afterPage = page => {
      if (page === 1) h.log.add('user', 99);
    };
    await follower.poll();
    h.log.afterPage = undefined;
    await follower.poll();
    const all = h.applied.flatMap(c => [...c.users]).sort();
    expect(all).toEqual(['10', '11', '12', '13', '14', '15', '16', '99']);
    expect(new Set(all).size).toBe(all.length);
  });

  it('reads events created in the same instant as the watermark even when listed after it', async () => {
    const h = harness();
    const mark = h.log.add('user', 1);
    const follower = h.follower();
    await follower.poll();
    // Same `created`, recorded later but listed below the watermark (ties have no order).
    h.log.events.unshift({ ...mark, pk: randomUUID(), context: { model: { pk: 5, app: 'authentik_core', model_name: 'user' } } });
    await follower.poll();
    expect(users(h.applied)).toEqual([['5']]);
    expect(h.gaps).toEqual([]);
  });

  it('applies a long backlog oldest first, a bounded number per poll', async () => {
    const h = harness();
    h.log.add('user', 1);
    const follower = h.follower({ maxEventsPerPoll: 3 });
    await follower.poll();
    for (let pk = 10; pk < 17; pk++) h.log.add('user', pk);
    await follower.poll();
    await follower.poll();
    await follower.poll();
    expect(users(h.applied)).toEqual([['10', '11', '12'], ['13', '14', '15'], ['16']]);
  });

  it('skips events a webhook (or another replica) already applied', async () => {
    const h = harness();
    h.log.add('user', 1);
    await h.follower().poll();
    const viaWebhook = h.log.add('user', 2);
    h.log.add('user', 3);
    await h.store.claim('default', [viaWebhook.pk.replace(/-/g, '')], h.log.clock);
    await h.follower().poll();
    expect(users(h.applied)).toEqual([['3']]);
  });

  it('two followers sharing the database apply each logged change once', async () => {
    const h = harness();
    h.log.add('user', 1);
    const [a, b] = [h.follower(), h.follower()];
    await a.poll();
    for (let pk = 2; pk < 8; pk++) h.log.add('user', pk);
    // Both read the log before either applies anything.
    let arrived = 0;
    let release!: () => void;
    const bothReading = new Promise<void>(resolve => (release = resolve));
    h.log.beforeServe = () => {
      if (++arrived === 2) release();
      return bothReading;
    };
    await Promise.all([a.poll(), b.poll()]);
    const all = h.applied.flatMap(c => [...c.users]).sort();
    expect(all).toEqual(['2', '3', '4', '5', '6', '7']);
  });

  it('keeps the watermark and its claims when applying fails, and applies at the next poll', async () => {
    const h = harness();
    h.log.add('user', 1);
    const follower = h.follower();
    await follower.poll();
    h.log.add('user', 2);
    h.failNextApply();
    await follower.poll();
    expect(h.applied).toEqual([]);
    expect(h.warnings.join('\n')).toMatch(/Reading authentik's event log failed .*authentik is unavailable/);
    await follower.poll();
    expect(users(h.applied)).toEqual([['2']]);
  });

  it('requests a full walk, logs and counts a gap when the watermark event is no longer in the log', async () => {
    const h = harness();
    h.log.add('user', 1);
    const follower = h.follower();
    await follower.poll();
    h.log.events = []; // log cleared (or expired)
    h.log.add('user', 2);
    h.log.add('user', 3);
    await follower.poll();
    expect(h.applied).toEqual([]);
    expect(h.walks).toBe(1);
    expect(h.gaps).toEqual(['watermark-lost']);
    expect(h.warnings.join('\n')).toMatch(/event log gap \(watermark-lost\).*a full walk starts now/);
    // Followed again from the newest event on.
    h.log.add('user', 4);
    await follower.poll();
    expect(users(h.applied)).toEqual([['4']]);
  });

  it('detects a lost watermark from an older event too, not only at the end of the log', async () => {
    const h = harness();
    h.log.add('user', 1);
    const follower = h.follower();
    await follower.poll();
    const [lost] = h.log.events.splice(0, 1);
    h.log.events.unshift({ ...lost, pk: randomUUID(), created: new Date(Date.parse(lost.created) - 5000).toISOString() });
    h.log.add('user', 2);
    await follower.poll();
    expect(h.gaps).toEqual(['watermark-lost']);
  });

  it('requests a full walk instead of replaying after an outage longer than maxOutage', async () => {
    const h = harness();
    h.log.add('user', 1);
    await h.follower().poll();
    h.log.add('user', 2);
    h.log.clock += 2 * 3_600_000;
    await h.follower().poll();
    expect(h.applied).toEqual([]);
    expect(h.gaps).toEqual(['outage']);
    expect(h.walks).toBe(1);
  });

  it('requests a full walk when more events than maxReplayEvents are new', async () => {
    const h = harness();
    h.log.add('user', 1);
    await h.follower({ maxReplayEvents: 3 }).poll();
    for (let pk = 2; pk < 7; pk++) h.log.add('user', pk);
    await h.follower({ maxReplayEvents: 3 }).poll();
    expect(h.gaps).toEqual(['too-many-events']);
  });

  it('asks again for a walk that could not start because one was running', async () => {
    const h = harness();
    const outcomes: WalkRequestOutcome[] = ['walk-running', 'walk-running', 'started'];
    const follower = h.follower({ requestWalk: async () => outcomes.shift() ?? 'started' });
    h.log.add('user', 1);
    await follower.poll();
    h.log.events = [];
    await follower.poll(); // gap → walk-running
    await follower.poll(); // still running
    await follower.poll(); // started
    expect(outcomes).toEqual([]);
    expect(h.warnings.join('\n')).toMatch(/a full walk is requested for when the running one ends/);
  });

  it('reports a 403 once, with the permission to grant, and resumes when it is granted', async () => {
    const h = harness();
    h.log.add('user', 1);
    const follower = h.follower();
    await follower.poll();
    h.log.forbidden = true;
    await follower.poll();
    await follower.poll();
    expect(h.warnings.filter(w => w.includes('authentik_events.view_event'))).toHaveLength(1);
    h.log.forbidden = false;
    h.log.add('user', 2);
    await follower.poll();
    expect(users(h.applied)).toEqual([['2']]);
  });
});
