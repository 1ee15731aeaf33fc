import { ConfigReader } from '@backstage/config';
import { readAuthentikConfigs } from './config';

const TOKEN = 'super-secret-token-value';

function read(authentik: unknown) {
  return readAuthentikConfigs(new ConfigReader(JSON.parse(JSON.stringify({ catalog: { providers: { authentik } } }))));
}

describe('readAuthentikConfigs', () => {
  it("reads the spec's single-instance form with its defaults", () => {
    const [instance] = read({ baseUrl: 'https://authentik.example.com/', token: TOKEN });
    expect(instance).toMatchObject({
      id: 'default',
      baseUrl: 'https://authentik.example.com',
      excludeGroups: [],
      includeServiceAccounts: false,
      schedule: {
        frequency: { kind: 'rest', rest: { minutes: 30 } },
        timeout: { minutes: 3 },
        initialDelay: { seconds: 15 },
        scope: 'global',
      },
      webhook: { header: 'authorization', dangerouslyAllowUnauthenticated: false },
      incremental: { pageSize: 100, concurrency: 8, rejectRemovalsAbovePercentage: 25, rejectEmptySourceCollections: true },
    });
    // The engine releases a burst after burstLength + 1 minute: timeout bounds that.
    expect(instance.incremental.burstLength).toEqual({ milliseconds: 120_000 });
    expect(instance.webhook.secret).toBeUndefined();
  });

  it('reads several instances side by side', () => {
    const instances = read({
      corp: { baseUrl: 'https://sso.corp.example', token: TOKEN },
      lab: { baseUrl: 'https://sso.lab.example', token: TOKEN, schedule: { frequency: { cron: '0 */2 * * *' } } },
    });
    expect(instances.map(i => i.id)).toEqual(['corp', 'lab']);
    expect(instances[1].schedule.frequency).toEqual({ kind: 'cron', cron: '0 */2 * * *' });
  });

  it.each([
    ['https://authentik.example.com/if/admin/', 'https://authentik.example.com'],
    ['https://authentik.example.com/api/v3/', 'https://authentik.example.com'],
    ['https://example.com/auth/api/v3', 'https://example.com/auth'],
  ])('rejects baseUrl %s and says to write %s', (baseUrl, root) => {
    expect(() => read({ baseUrl, token: TOKEN })).toThrow(`catalog.providers.authentik.baseUrl`);
    expect(() => read({ baseUrl, token: TOKEN })).toThrow(`write the root URL "${root}" instead`);
  });

  it.each([
    [{ baseUrl: 'https://a.example' }, 'catalog.providers.authentik.token'],
    [{ baseUrl: 'https://a.example', token: TOKEN, includeServiceAccounts: 'yes' }, 'catalog.providers.authentik.includeServiceAccounts'],
    [{ baseUrl: 'https://a.example', token: TOKEN, excludeGroups: ['Authentik Admins'] }, 'write "authentik-admins" instead'],
    [{ baseUrl: 'https://a.example', token: TOKEN, schedule: { frequency: { minutes: 'often' } } }, 'catalog.providers.authentik.schedule.frequency'],
    [{ baseUrl: 'https://a.example', token: TOKEN, schedule: { frequency: { cron: 'soon' } } }, 'schedule.frequency.cron'],
    [{ baseUrl: 'https://a.example', token: TOKEN, incremental: { concurrency: 0 } }, 'catalog.providers.authentik.incremental.concurrency'],
    [{ baseUrl: 'not a url', token: TOKEN }, 'is not a URL'],
    [{ 'Bad Id': { baseUrl: 'https://a.example', token: TOKEN } }, 'catalog.providers.authentik.Bad Id'],
  ])('fails at startup naming the key (%#)', (authentik, message) => {
    expect(() => read(authentik)).toThrow(message);
    try {
      read(authentik);
    } catch (error) {
      expect(String(error)).not.toContain(TOKEN);
    }
  });

  it('treats an empty webhook secret (an unset environment variable) as no secret', () => {
    const [instance] = read({ baseUrl: 'https://a.example', token: TOKEN, webhook: { secret: '' } });
    expect(instance.webhook.secret).toBeUndefined();
  });

  it('reads the event log in poll mode every 5 s without a webhook secret, as a 60 s safety net with one', () => {
    const [poll] = read({ baseUrl: 'https://a.example', token: TOKEN });
    expect(poll.events).toEqual({ mode: 'poll', pollInterval: { seconds: 5 }, maxOutage: { hours: 24 } });
    const [both] = read({ baseUrl: 'https://a.example', token: TOKEN, webhook: { secret: 's' } });
    expect(both.events).toEqual({ mode: 'both', pollInterval: { seconds: 60 }, maxOutage: { hours: 24 } });
    const [explicit] = read({
      baseUrl: 'https://a.example',
      token: TOKEN,
      webhook: { secret: 's' },
      events: { mode: 'webhook', pollInterval: '10s', maxOutage: { hours: 2 } },
    });
    expect(explicit.events).toEqual({ mode: 'webhook', pollInterval: { seconds: 10 }, maxOutage: { hours: 2 } });
  });

  it('names events.mode when it is not webhook, poll or both', () => {
    expect(() => read({ baseUrl: 'https://a.example', token: TOKEN, events: { mode: 'push' } })).toThrow(
      'catalog.providers.authentik.events.mode',
    );
  });
});
