/**
 * The demo authentik's event log, read through the module's own client: authentik's
 * filters, newest-first ordering and page-number pagination, the same event pk as the
 * webhook that announced it, 403 without the permission.
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { AuthentikClient } from '../src/client/AuthentikClient';
import { AuthentikPermissionError } from '../src/client/errors';
import { DemoAuthentik, seedDemoDirectory, startDemoAuthentik } from '../dev/demo-authentik';

const TOKEN = 'demo-event-log-token';
const MODEL_ACTIONS = ['model_created', 'model_updated', 'model_deleted'];

let demo: DemoAuthentik;
let client: AuthentikClient;
beforeEach(async () => {
  demo = await startDemoAuthentik({ directory: seedDemoDirectory(), token: TOKEN });
  client = new AuthentikClient({ baseUrl: demo.url, token: TOKEN, retries: 0 });
});
afterEach(() => demo.stop());

async function get(path: string) {
  const response = await fetch(`${demo.url}/api/v3${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: response.status, body: (await response.json()) as any };
}

describe('demo authentik event log', () => {
  it('records every change made after it started (not the seed), newest first, paged', async () => {
    const { directory } = demo;
    expect(demo.eventLog.size).toBe(0);
    const user = directory.addUser({ username: 'log.alice', name: 'Alice Log' });
    directory.updateUser(user.pk, { name: 'Alice Renamed' });
    const group = directory.addGroup({ name: 'log-team' });
    directory.addMember(group.pk, user.pk);
    directory.deleteUser(user.pk);

    const first = await client.listEvents({ page: 1, pageSize: 2, actions: MODEL_ACTIONS, modelApp: 'authentik_core' });
    const second = await client.listEvents({ page: 2, pageSize: 2, actions: MODEL_ACTIONS, modelApp: 'authentik_core' });
    const third = await client.listEvents({ page: 3, pageSize: 2, actions: MODEL_ACTIONS, modelApp: 'authentik_core' });
    expect(first?.pagination).toMatchObject({ count: 5, total_pages: 3, next: 2, previous: 0 });
    expect(await client.listEvents({ page: 4, pageSize: 2, actions: MODEL_ACTIONS, modelApp: 'authentik_core' })).toBeUndefined();
    const events = [...first!.results, ...second!.results, ...third!.results];
    expect(events.map(e => e.action)).toEqual(['model_deleted', 'model_updated', 'model_created', 'model_updated', 'model_created']);
    expect(events.map(e => (e.context?.model as { model_name: string }).model_name)).toEqual(['user', 'group', 'group', 'user', 'user']);
    expect(events[0].pk).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const created = events.map(e => Date.parse(e.created));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
  });

  it("applies authentik's filters and rejects an unknown action as django-filter does", async () => {
    const { directory } = demo;
    const user = directory.addUser({ username: 'log.bob' });
    directory.addGroup({ name: 'log-group' });
    expect((await get('/events/events/?context_model_name=group')).body.pagination.count).toBe(1);
    expect((await get(`/events/events/?context_model_pk=${user.pk}`)).body.pagination.count).toBe(1);
    expect((await get('/events/events/?action=model_deleted')).body.pagination.count).toBe(0);
    expect((await get('/events/events/?actions=model_created&actions=model_deleted')).body.pagination.count).toBe(2);
    expect((await get('/events/events/?context_model_app=authentik_flows')).body.pagination.count).toBe(0);
    expect((await get('/events/events/?ordering=created')).body.results[0].context.model.model_name).toBe('user');
    const invalid = await get('/events/events/?actions=model_exploded');
    expect(invalid.status).toBe(400);
    expect(invalid.body.actions[0]).toMatch(/model_exploded is not one of the available choices/);
  });

  it('delivers webhooks carrying the logged event pk', async () => {
    const bodies: Array<{ event_pk: string }> = [];
    const receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', chunk => (raw += chunk));
      req.on('end', () => {
        bodies.push(JSON.parse(raw));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>(resolve => receiver.listen(0, '127.0.0.1', resolve));
    const withWebhook = await startDemoAuthentik({
      directory: seedDemoDirectory(),
      token: TOKEN,
      webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, bodyForm: 'mapping' },
    });
    try {
      withWebhook.directory.addUser({ username: 'log.carol' });
      await withWebhook.whenWebhooksIdle();
      expect(bodies.map(b => b.event_pk)).toEqual(withWebhook.eventLog.all().map(e => e.pk));
    } finally {
      await withWebhook.stop();
      await new Promise(resolve => receiver.close(resolve));
    }
  });

  it('answers 403 without authentik_events.view_event, which the client reports as a permission error', async () => {
    demo.setEventLogForbidden(true);
    await expect(client.listEvents({ page: 1, pageSize: 20, actions: MODEL_ACTIONS, modelApp: 'authentik_core' })).rejects.toBeInstanceOf(
      AuthentikPermissionError,
    );
  });
});
