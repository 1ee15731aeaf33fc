import { RequestSlots } from './RequestSlots';

describe('RequestSlots', () => {
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
  const tick = () => new Promise(resolve => setImmediate(resolve));

  it('runs at most `limit` calls at once, the waiting ones in the order they came', async () => {
    const slots = new RequestSlots(2);
    const calls = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = calls.map((call, i) =>
      slots.run(async () => {
        started.push(i);
        await call.promise;
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect(slots.inFlight).toBe(2);
    calls[1].resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    calls[0].resolve();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    calls[2].resolve();
    calls[3].resolve();
    await expect(Promise.all(runs)).resolves.toEqual([0, 1, 2, 3]);
    expect(slots.inFlight).toBe(0);
  });

  it('frees the slot of a call that fails', async () => {
    const slots = new RequestSlots(1);
    await expect(slots.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slots.run(async () => 'next')).resolves.toBe('next');
    expect(slots.inFlight).toBe(0);
  });

  it('refuses a limit below 1', () => {
    expect(() => new RequestSlots(0)).toThrow(RangeError);
  });
});
