import { LogRateLimiter } from './LogRateLimiter';

describe('LogRateLimiter', () => {
  it('lets one line through per interval and tells the next one how many were held back', () => {
    let now = 1_000;
    const limiter = new LogRateLimiter(60_000, () => now);
    const logged: number[] = [];
    const log = (suppressed: number) => logged.push(suppressed);

    limiter.run(log);
    for (let i = 0; i < 10_000; i++) limiter.run(log);
    expect(logged).toEqual([0]);

    now += 59_999;
    limiter.run(log);
    expect(logged).toEqual([0]);

    now += 1;
    limiter.run(log);
    expect(logged).toEqual([0, 10_001]);

    now += 60_000;
    limiter.run(log);
    expect(logged).toEqual([0, 10_001, 0]);
  });
});
