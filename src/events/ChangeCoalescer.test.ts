import { ChangeBatch, ChangeCoalescer } from './ChangeCoalescer';

describe('ChangeCoalescer', () => {
  afterEach(() => jest.useRealTimers());

  it("stamps a batch with since: its first hint's receipt, or an event's earlier created", async () => {
    jest.useFakeTimers({ now: Date.parse('2026-11-30T10:00:00Z') });
    const batches: ChangeBatch[] = [];
    const coalescer = new ChangeCoalescer({ windowMs: 100, maxDelayMs: 1000, flush: async batch => void batches.push(batch) });
    const first = Date.now();
    coalescer.add({ model: 'user', pk: '1' });
    jest.advanceTimersByTime(50);
    coalescer.add({ model: 'user', pk: '2', created: '2026-11-30T10:00:10Z' }); // a clock ahead: receipt wins
    await jest.advanceTimersByTimeAsync(200);
    expect(batches.map(b => b.changes.since)).toEqual([first]);

    coalescer.add({ model: 'group', pk: 'a' });
    coalescer.add({ model: 'user', pk: '3', created: '2026-11-30T09:58:00Z' }); // retried late by authentik
    coalescer.add({ model: 'user', pk: '4', created: 'not a time' });
    await jest.advanceTimersByTimeAsync(200);
    expect(batches[1].changes.since).toBe(Date.parse('2026-11-30T09:58:00Z'));
    await coalescer.stop();
  });
});
