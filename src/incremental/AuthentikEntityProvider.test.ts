import { mockServices } from '@backstage/backend-test-utils';
import { MemoryAuthentik } from '../__testUtils__/MemoryAuthentik';
import { testInstanceConfig, walkAll } from '../__testUtils__/walk';
import { AuthentikEntityProvider, WalkContext } from './AuthentikEntityProvider';
import { WalkCursor } from './cursor';

function setup(users: number, maxBatchSize?: number, concurrency = 1) {
  const dir = new MemoryAuthentik();
  for (let i = 0; i < users; i++) dir.addUser({ username: `user${i}` });
  dir.addGroup({ name: 'Team' });
  const config = testInstanceConfig();
  config.incremental = { ...config.incremental, pageSize: 10, concurrency }; // windows of 2 × concurrency pages
  const provider = new AuthentikEntityProvider({ config, api: dir, logger: mockServices.logger.mock(), maxBatchSize });
  return { dir, provider };
}

const sorted = (pages: number[]) => [...pages].sort((a, b) => a - b);

const names = (result: { entities?: Array<{ entity: { metadata: { name: string } } }> }) =>
  (result.entities ?? []).map(e => e.entity.metadata.name);

describe('AuthentikEntityProvider', () => {
  it('starts every burst by emitting the last batch again, so a batch the engine never marked is not lost', async () => {
    const { provider } = setup(50);
    const context: WalkContext = { signal: new AbortController().signal, firstOfBurst: false };
    let cursor: WalkCursor | undefined;
    const batches: string[][] = [];
    for (let i = 0; i < 4; i++) {
      const result = await provider.next(context, cursor);
      batches.push(names(result));
      cursor = result.cursor;
    }
    // batches: [] (start), [group], users 1-20, users 21-40. A new burst resumes from the
    // stored cursor (after users 21-40) and first emits users 21-40 again.
    const resumed = await provider.next({ signal: new AbortController().signal, firstOfBurst: true }, cursor);
    expect(names(resumed)).toEqual(batches[3]);
    expect(resumed.done).toBe(false);
    const rest = await provider.next({ signal: new AbortController().signal, firstOfBurst: false }, resumed.cursor);
    expect(names(rest)).toEqual(Array.from({ length: 10 }, (_, i) => `user${40 + i}`));
    expect(rest.done).toBe(true);
  });

  it('keeps every batch within the engine limit (SQLite: 500 rows per insert)', async () => {
    const { provider, dir } = setup(30, 12);
    for (let i = 0; i < 20; i++) dir.addGroup({ name: `Group ${i}` });
    const context: WalkContext = { signal: new AbortController().signal, firstOfBurst: false };
    let cursor: WalkCursor | undefined;
    const sizes: number[] = [];
    for (let i = 0; i < 50; i++) {
      const result = await provider.next(context, cursor);
      sizes.push(result.entities?.length ?? 0);
      if (result.done) break;
      cursor = result.cursor;
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(12);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(30 + 21);
  });

  it('refuses a walk that reads no groups while authentik lists users (a token without view_group)', async () => {
    const dir = new MemoryAuthentik();
    dir.addUser({ username: 'alice' });
    await expect(walkAll(dir)).rejects.toThrow(/listed no groups while it lists 1 users.*nothing is removed/);
  });

  it('refuses a walk that reads no users while authentik lists groups (a token without view_user)', async () => {
    const dir = new MemoryAuthentik();
    dir.addGroup({ name: 'Team' });
    await expect(walkAll(dir)).rejects.toThrow(/listed no users while it lists 1 groups.*nothing is removed/);
  });
});

describe('AuthentikEntityProvider: burst lifecycle', () => {
  function provider(
    schedule: Partial<ReturnType<typeof testInstanceConfig>['schedule']>,
    shutdownSignal?: AbortSignal,
    burstDeadlineMs?: number,
  ) {
    const config = testInstanceConfig();
    config.schedule = { ...config.schedule, ...schedule };
    const logger = mockServices.logger.mock();
    return new AuthentikEntityProvider({ config, api: new MemoryAuthentik(), logger, shutdownSignal, burstDeadlineMs });
  }

  it('initialDelay is a wait that shutdown interrupts; the burst then does not run', async () => {
    const shutdown = new AbortController();
    const p = provider({ initialDelay: { minutes: 5 } }, shutdown.signal);
    const burst = jest.fn(async () => undefined);
    const started = Date.now();
    const running = p.around(burst);
    setTimeout(() => shutdown.abort(), 20);
    await expect(running).rejects.toThrow(/shutting down/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(burst).not.toHaveBeenCalled();
  });

  it('a burst past its deadline is aborted (its requests and waits see the signal)', async () => {
    const p = provider({}, undefined, 50);
    await expect(
      p.around(context => new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason)))),
    ).rejects.toThrow(/burst stopped after 50 ms/);
  });

  it('shutdown aborts the burst in progress', async () => {
    const shutdown = new AbortController();
    const p = provider({}, shutdown.signal);
    const running = p.around(context => new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason))));
    shutdown.abort();
    await expect(running).rejects.toThrow(/shutting down/);
  });
});

describe('AuthentikEntityProvider: the next window is read while the engine stores this one', () => {
  function pagesRequested(dir: MemoryAuthentik): number[] {
    const pages: number[] = [];
    const listUsers = dir.listUsers.bind(dir);
    dir.listUsers = async request => {
      pages.push(request.page);
      return listUsers(request);
    };
    return pages;
  }

  async function usersPhase(provider: AuthentikEntityProvider, context: WalkContext) {
    let cursor: WalkCursor | undefined;
    for (;;) {
      const result = await provider.next(context, cursor);
      cursor = result.cursor;
      if (cursor?.phase === 'users') return cursor;
    }
  }

  it('requests the next window before next() is called for it, and not again when it is', async () => {
    const { dir, provider } = setup(50); // pages of 10, windows of 2 pages
    const pages = pagesRequested(dir);
    const context: WalkContext = { signal: new AbortController().signal, firstOfBurst: false };
    const first = await provider.next(context, await usersPhase(provider, context));
    expect(names(first)).toEqual(Array.from({ length: 20 }, (_, i) => `user${i}`));
    // Window 1 (pages 1-2), then window 2 (anchor 2, pages 3-4) on its way before the
    // engine calls next() for it (the anchor goes out once window 1's answers are in).
    await new Promise(resolve => setImmediate(resolve));
    expect(sorted(pages)).toEqual([1, 2, 2, 3, 4]);
    const second = await provider.next(context, first.cursor);
    expect(names(second)).toEqual(Array.from({ length: 20 }, (_, i) => `user${20 + i}`));
    await new Promise(resolve => setImmediate(resolve));
    expect(sorted(pages)).toEqual([1, 2, 2, 3, 4, 4, 5, 6]); // only window 3 was added
  });

  it('does not read ahead when the engine will end the burst after this batch (burstLength spent)', async () => {
    const { dir, provider } = setup(50); // burstLength 10 s in the test config
    const pages = pagesRequested(dir);
    const spent: WalkContext = { signal: new AbortController().signal, firstOfBurst: false, startedAt: performance.now() - 10_001 };
    await provider.next(spent, await usersPhase(provider, { signal: spent.signal, firstOfBurst: false }));
    expect(pages).toEqual([1, 2]);
  });

  it('a window prefetched by a burst that ended is not used by the next one: a deletion in between is seen', async () => {
    const { dir, provider } = setup(50);
    const ended = new AbortController();
    const context: WalkContext = { signal: ended.signal, firstOfBurst: false };
    const first = await provider.next(context, await usersPhase(provider, context));
    ended.abort(); // the burst ends with window 2 prefetched
    dir.deleteUser(25);
    const rest: string[] = [];
    const next: WalkContext = { signal: new AbortController().signal, firstOfBurst: true };
    let cursor = first.cursor;
    for (;;) {
      const result = await provider.next(next, cursor);
      rest.push(...names(result));
      if (result.done) break;
      cursor = result.cursor;
    }
    expect(rest).not.toContain('user24'); // pk 25
    expect(new Set(rest).size).toBe(49);
  });

  it('a full walk makes as many requests as it would without reading ahead', async () => {
    const { dir, provider } = setup(95);
    const pages = pagesRequested(dir);
    const context: WalkContext = { signal: new AbortController().signal, firstOfBurst: false };
    let cursor: WalkCursor | undefined;
    for (;;) {
      const result = await provider.next(context, cursor);
      if (result.done) break;
      cursor = result.cursor;
    }
    // Windows: [1,2] [2,3,4] [4,5,6] [6,7,8] [8,9,10]: page 10 is the last one.
    expect(sorted(pages)).toEqual([1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9, 10]);
  });

  it("keeps concurrency + 1 requests in flight at most, and asks for an anchor only after the window before was answered", async () => {
    const { dir, provider } = setup(150, undefined, 2); // windows of 4 pages, 3 requests at once
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const listUsers = dir.listUsers.bind(dir);
    dir.listUsers = async request => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      log.push(`ask ${request.page}`);
      await new Promise(resolve => setTimeout(resolve, 5 + (request.page % 3)));
      inFlight -= 1;
      log.push(`got ${request.page}`);
      return listUsers(request);
    };
    const context: WalkContext = { signal: new AbortController().signal, firstOfBurst: false };
    let cursor: WalkCursor | undefined;
    const users: string[] = [];
    for (;;) {
      const result = await provider.next(context, cursor);
      users.push(...names(result).filter(n => n.startsWith('user')));
      if (result.done) break;
      cursor = result.cursor;
    }
    expect(new Set(users).size).toBe(150);
    expect(maxInFlight).toBe(3);
    const nth = (line: string, n: number) => log.map((l, i) => [l, i] as const).filter(([l]) => l === line)[n - 1][1];
    // Window 2 is anchor 4 + pages 5-8; window 3 is anchor 8 + pages 9-12. Window 3's anchor
    // (page 8, asked the second time) goes out only after all of window 2 was answered...
    const anchor3 = nth('ask 8', 2);
    for (const answer of ['got 5', 'got 6', 'got 7']) expect(nth(answer, 1)).toBeLessThan(anchor3);
    expect(nth('got 8', 1)).toBeLessThan(anchor3);
    expect(nth('got 4', 2)).toBeLessThan(anchor3);
    // ...while window 3's own pages went out before window 2 was all answered: the pipeline.
    const window2Answered = Math.max(nth('got 4', 2), ...['got 5', 'got 6', 'got 7', 'got 8'].map(line => nth(line, 1)));
    expect(nth('ask 9', 1)).toBeLessThan(window2Answered);
  });
});
