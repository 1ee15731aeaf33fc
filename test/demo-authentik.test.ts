import { IncomingHttpHeaders, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  DemoAuthentik,
  DemoAuthentikOptions,
  DemoDirectory,
  SEED_GROUPS,
  SEED_INACTIVE_USERS,
  SEED_USERS,
  generateSyntheticDirectory,
  pythonRepr,
  seedDemoDirectory,
  sendTestNotification,
  startDemoAuthentik,
} from '../dev/demo-authentik';
import { ChangeDescription } from '../dev/demo-authentik/types';

const TOKEN = 'demo-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

/** JSON as returned by the server: inspected field by field. */
type Json = { [key: string]: unknown };
interface Page {
  pagination: { next: number; previous: number; count: number; current: number; total_pages: number; start_index: number; end_index: number };
  results: Json[];
  autocomplete: Json;
}

const running: DemoAuthentik[] = [];

async function start(options: Partial<DemoAuthentikOptions> = {}): Promise<DemoAuthentik> {
  const server = await startDemoAuthentik({ directory: seedDemoDirectory(), token: TOKEN, ...options });
  running.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map(server => server.stop()));
});

async function get(server: DemoAuthentik, path: string, headers: Record<string, string> = AUTH): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(`${server.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
}

async function page(server: DemoAuthentik, path: string): Promise<Page> {
  const { status, body } = await get(server, path);
  expect(status).toBe(200);
  return body as unknown as Page;
}

async function demo(server: DemoAuthentik, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json | undefined }> {
  const response = await fetch(`${server.url}/demo${path}`, {
    method,
    headers: { ...AUTH, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Json) };
}

function groupPk(directory: DemoDirectory, name: string): string {
  const group = directory.findGroupByName(name);
  if (!group) throw new Error(`no group ${name}`);
  return group.pk;
}

function userPk(directory: DemoDirectory, username: string): number {
  const user = directory.findUserByUsername(username);
  if (!user) throw new Error(`no user ${username}`);
  return user.pk;
}

const SEED_USER_COUNT = Object.keys(SEED_USERS).length;

describe('authentication', () => {
  it('answers 403 without credentials and with a wrong token', async () => {
    const server = await start();
    expect(await get(server, '/api/v3/core/users/', {})).toMatchObject({
      status: 403,
      body: { detail: 'Authentication credentials were not provided.' },
    });
    expect(await get(server, '/api/v3/core/users/', { Authorization: 'Bearer nope' })).toMatchObject({
      status: 403,
      body: { detail: 'Token invalid/expired' },
    });
    const mutation = await fetch(`${server.url}/demo/users/2`, { method: 'DELETE', headers: { Authorization: 'Bearer nope' } });
    expect(mutation.status).toBe(403);
    expect(server.directory.getUser(2)).toBeDefined();
  });

  it('answers JSON 404 for unknown routes and 405 for writes to the API', async () => {
    const server = await start();
    expect(await get(server, '/api/v3/core/nothing/')).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    expect(await get(server, '/elsewhere')).toMatchObject({ status: 404 });
    const post = await fetch(`${server.url}/api/v3/core/users/`, { method: 'POST', headers: AUTH });
    expect(post.status).toBe(405);
  });
});

describe('pagination', () => {
  it('defaults to 20 per page with numeric next/previous, 0 when absent', async () => {
    const server = await start();
    const first = await page(server, '/api/v3/core/users/');
    expect(first.results).toHaveLength(20);
    expect(first.autocomplete).toEqual({});
    expect(first.pagination).toEqual({ next: 2, previous: 0, count: SEED_USER_COUNT, current: 1, total_pages: 2, start_index: 1, end_index: 20 });
    const last = await page(server, '/api/v3/core/users/?page=2');
    expect(last.results).toHaveLength(SEED_USER_COUNT - 20);
    expect(last.pagination).toEqual({ next: 0, previous: 1, count: SEED_USER_COUNT, current: 2, total_pages: 2, start_index: 21, end_index: SEED_USER_COUNT });
    expect((await page(server, '/api/v3/core/users/?page=last')).pagination.current).toBe(2);
  });

  it('silently caps page_size and ignores invalid sizes', async () => {
    const server = await start({ directory: generateSyntheticDirectory({ users: 250, groups: 10, seed: 7 }) });
    const capped = await page(server, '/api/v3/core/users/?page_size=1000');
    expect(capped.results).toHaveLength(100);
    expect(capped.pagination).toMatchObject({ total_pages: 3, next: 2, end_index: 100 });
    for (const invalid of ['0', '-5', 'abc', '']) {
      expect((await page(server, `/api/v3/core/users/?page_size=${invalid}`)).results).toHaveLength(20);
    }
    const small = await start({ maxPageSize: 10, defaultPageSize: 5 });
    expect((await page(small, '/api/v3/core/users/')).results).toHaveLength(5);
    expect((await page(small, '/api/v3/core/users/?page_size=50')).results).toHaveLength(10);
  });

  it('answers 404 "Invalid page." out of range', async () => {
    const server = await start();
    for (const bad of ['3', '0', '-1', 'abc', '1.5']) {
      expect(await get(server, `/api/v3/core/users/?page=${bad}`)).toMatchObject({ status: 404, body: { detail: 'Invalid page.' } });
    }
    expect(await get(server, '/api/v3/core/groups/?page=2')).toMatchObject({ status: 404, body: { detail: 'Invalid page.' } });
  });

  it('gives an empty list one page, like Django', async () => {
    const server = await start();
    const empty = await page(server, '/api/v3/core/users/?username=nobody');
    expect(empty.results).toEqual([]);
    expect(empty.pagination).toEqual({ next: 0, previous: 0, count: 0, current: 1, total_pages: 1, start_index: 0, end_index: 0 });
    expect((await get(server, '/api/v3/core/users/?username=nobody&page=2')).status).toBe(404);
  });

  it('serves every page from the live state, so pages shift under a walk', async () => {
    const server = await start();
    const first = await page(server, '/api/v3/core/users/?ordering=pk&page_size=10');
    expect(first.results.map(u => u.pk)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await demo(server, 'DELETE', '/users/3')).status).toBe(204);
    const second = await page(server, '/api/v3/core/users/?ordering=pk&page=2&page_size=10');
    // pk 11 moved onto page 1: a naive walk never sees it.
    expect(second.results[0].pk).toBe(12);
    expect(second.pagination.count).toBe(SEED_USER_COUNT - 1);

    const created = await demo(server, 'POST', '/users', { username: 'aaron.new', name: 'Aaron New' });
    expect(created.status).toBe(201);
    const byName = await page(server, '/api/v3/core/users/?username=aaron.new');
    expect(byName.results.map(u => u.pk)).toEqual([created.body?.pk]);
  });
});

describe('users', () => {
  it('has the fields of authentik 2025.12+', async () => {
    const server = await start();
    const jane = (await page(server, `/api/v3/core/users/?username=${encodeURIComponent(SEED_USERS.jane)}`)).results[0];
    expect(Object.keys(jane).sort()).toEqual(
      [
        'pk', 'username', 'name', 'email', 'is_active', 'is_superuser', 'type', 'path', 'uid', 'uuid', 'avatar',
        'attributes', 'groups', 'groups_obj', 'roles', 'roles_obj', 'last_updated', 'last_login', 'date_joined',
        'password_change_date',
      ].sort(),
    );
    expect(jane).toMatchObject({ pk: 2, name: 'Jane Doe', email: 'jane.doe@example.com', is_active: true, type: 'internal', last_login: null, roles: [] });
    expect(jane.uid).toMatch(/^[0-9a-f]{64}$/);
    expect(jane.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(jane.avatar).toMatch(/^https:\/\//);
    expect(jane.date_joined).toBe('2024-03-02T09:00:00Z');
    expect(jane.groups).toEqual([groupPk(server.directory, SEED_GROUPS.engineering), groupPk(server.directory, SEED_GROUPS.platform)]);
    expect(jane.groups_obj).toEqual([
      { pk: groupPk(server.directory, SEED_GROUPS.engineering), num_pk: 3, name: 'Engineering', is_superuser: false, attributes: { costCenter: 'ENG-100' } },
      { pk: groupPk(server.directory, SEED_GROUPS.platform), num_pk: 4, name: 'Platform', is_superuser: false, attributes: {} },
    ]);
  });

  it('honours include_groups and include_roles', async () => {
    const server = await start();
    const user = (await page(server, '/api/v3/core/users/?include_groups=false&include_roles=false&username=akadmin')).results[0];
    expect(user.groups_obj).toBeNull();
    expect(user.roles_obj).toBeNull();
    expect(user.groups).toEqual([groupPk(server.directory, SEED_GROUPS.admins)]);
    expect(user.is_superuser).toBe(true);
  });

  it('orders by username by default, and by pk / -pk on request', async () => {
    const server = await start();
    const usernames = Object.values(SEED_USERS);
    const all = await page(server, '/api/v3/core/users/?page_size=100');
    expect(all.results.map(u => u.username)).toEqual([...usernames].sort());
    const byPk = await page(server, '/api/v3/core/users/?page_size=100&ordering=pk');
    expect(byPk.results.map(u => u.pk)).toEqual(usernames.map((_, i) => i + 1));
    const byPkDesc = await page(server, '/api/v3/core/users/?page_size=100&ordering=-pk');
    expect(byPkDesc.results.map(u => u.pk)).toEqual(usernames.map((_, i) => usernames.length - i));
    const unknownField = await page(server, '/api/v3/core/users/?page_size=100&ordering=password');
    expect(unknownField.results.map(u => u.username)).toEqual([...usernames].sort());
  });

  it('keeps orderings right across renames (incremental index)', async () => {
    const server = await start();
    await page(server, '/api/v3/core/users/?page_size=100');
    await demo(server, 'PATCH', '/users/1', { username: 'zzz-admin' });
    const names = (await page(server, '/api/v3/core/users/?page_size=100')).results.map(u => u.username as string);
    expect(names).toEqual([...names].sort());
    expect(names[names.length - 1]).toBe('zzz-admin');
  });

  it('filters by is_active, type (OR), username and groups_by_pk', async () => {
    const server = await start();
    const inactive = await page(server, '/api/v3/core/users/?is_active=false');
    expect(inactive.results.map(u => u.username).sort()).toEqual([...SEED_INACTIVE_USERS].sort());
    const active = await page(server, '/api/v3/core/users/?is_active=true&page_size=100');
    expect(active.pagination.count).toBe(SEED_USER_COUNT - SEED_INACTIVE_USERS.length);

    const accounts = await page(server, '/api/v3/core/users/?type=service_account&type=internal_service_account');
    expect(accounts.results.map(u => u.username).sort()).toEqual([SEED_USERS.outpost, SEED_USERS.ciBot].sort());
    expect(accounts.results.find(u => u.username === SEED_USERS.outpost)).toMatchObject({ path: 'goauthentik.io/outposts', email: '' });

    const sre = await page(server, `/api/v3/core/users/?groups_by_pk=${groupPk(server.directory, SEED_GROUPS.sre)}`);
    expect(sre.results.map(u => u.username).sort()).toEqual([SEED_USERS.alice, SEED_USERS.bob]);

    const exact = await page(server, `/api/v3/core/users/?username=${encodeURIComponent(SEED_USERS.jose)}`);
    expect(exact.results.map(u => u.name)).toEqual(['José Núñez']);

    expect((await get(server, '/api/v3/core/users/?type=robot')).status).toBe(400);
    expect((await get(server, '/api/v3/core/users/?groups_by_pk=not-a-uuid')).status).toBe(400);
  });

  it('bumps last_updated on every save of a user, not on add_user, and filters by last_updated__gt (2025.8+)', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const server = await start({ directory: seedDemoDirectory({ now: () => clock }) });
    const d = server.directory;
    const since = new Date(clock).toISOString();
    clock += 1234;
    d.updateUser(2, { name: 'Jane Renamed' });
    d.setUserGroups(3, []);
    d.addMember(groupPk(d, SEED_GROUPS.sre), 4); // a change of the group, not of the user
    const recent = await page(server, `/api/v3/core/users/?last_updated__gt=${encodeURIComponent(since)}&ordering=pk`);
    expect(recent.results.map(u => u.pk)).toEqual([2, 3]);
    expect(recent.results[0].last_updated).toBe('2026-01-01T00:00:01.234000Z');
    expect((await get(server, '/api/v3/core/users/?last_updated__gt=yesterday')).status).toBe(400);
  });

  it('before 2025.8: no last_updated, and last_updated__gt is ignored like any unknown parameter', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const server = await start({ directory: seedDemoDirectory({ now: () => clock }), lastUpdated: false });
    const since = new Date(clock).toISOString();
    clock += 1000;
    server.directory.updateUser(2, { name: 'Jane Renamed' });
    const all = await page(server, `/api/v3/core/users/?last_updated__gt=${encodeURIComponent(since)}&page_size=100`);
    expect(all.pagination.count).toBe(SEED_USER_COUNT);
    expect(all.results[0]).not.toHaveProperty('last_updated');
    expect((await get(server, '/api/v3/core/users/2/')).body).not.toHaveProperty('last_updated');
  });

  it("a user's list JSON, kept between requests, follows every change: of the user, and of its groups", async () => {
    const server = await start();
    const userIn = async (pk: number) =>
      (await page(server, '/api/v3/core/users/?ordering=pk&page_size=100&include_groups=false')).results.find(user => user.pk === pk)!;
    const before = await userIn(2);
    expect(await userIn(2)).toEqual(before);
    server.directory.updateUser(2, { name: 'Jane Renamed' });
    expect((await userIn(2)).name).toBe('Jane Renamed');
    const group = [...server.directory.groupRecords()].find(g => !(before.groups as string[]).includes(g.pk))!;
    server.directory.addMember(group.pk, 2); // the user's record stays; its groups change
    expect((await userIn(2)).groups).toContain(group.pk);
    server.forgetSerializedUsers();
    expect((await userIn(2)).groups).toContain(group.pk);
  });

  it('serves a user by pk, 404 when missing', async () => {
    const server = await start();
    expect((await get(server, '/api/v3/core/users/2/')).body).toMatchObject({ pk: 2, username: SEED_USERS.jane });
    expect(await get(server, '/api/v3/core/users/999/')).toMatchObject({ status: 404, body: { detail: 'No User matches the given query.' } });
  });
});

describe('groups', () => {
  it('has the 2025.12+ shape with parents, children and embedded users', async () => {
    const server = await start();
    const d = server.directory;
    const sre = (await page(server, '/api/v3/core/groups/?name=SRE')).results[0];
    expect(sre).toMatchObject({
      pk: groupPk(d, SEED_GROUPS.sre),
      num_pk: 8,
      name: 'SRE',
      is_superuser: false,
      parents: [groupPk(d, SEED_GROUPS.platform), groupPk(d, SEED_GROUPS.operations)],
      parents_obj: null,
      users: [userPk(d, SEED_USERS.alice), userPk(d, SEED_USERS.bob)],
      roles: [],
      children: [],
      children_obj: null,
    });
    expect(sre).not.toHaveProperty('parent');
    expect(sre.users_obj).toEqual([
      expect.objectContaining({ pk: 4, username: SEED_USERS.alice, name: 'Alice Nguyen', is_active: true, last_login: null, email: 'alice.nguyen@example.com', attributes: {} }),
      expect.objectContaining({ pk: 5, username: SEED_USERS.bob }),
    ]);
    expect(Object.keys((sre.users_obj as Json[])[0]).sort()).toEqual(['attributes', 'email', 'is_active', 'last_login', 'name', 'pk', 'uid', 'username']);

    const engineering = (await get(server, `/api/v3/core/groups/${groupPk(d, SEED_GROUPS.engineering)}/?include_children=true&include_users=false`)).body;
    expect(engineering.users_obj).toBeNull();
    expect(engineering.children).toEqual([SEED_GROUPS.platform, SEED_GROUPS.frontend, SEED_GROUPS.backend].map(n => groupPk(d, n)));
    expect((engineering.children_obj as Json[]).map(c => c.name)).toEqual(['Platform', 'Frontend', 'Backend']);

    const withParents = (await get(server, `/api/v3/core/groups/${groupPk(d, SEED_GROUPS.sre)}/?include_parents=true`)).body;
    expect((withParents.parents_obj as Json[]).map(p => p.name)).toEqual(['Platform', 'Operations']);
  });

  it('has the ≤ 2025.10 shape with a single parent', async () => {
    const server = await start({ apiShape: 'parent' });
    const d = server.directory;
    const sre = (await page(server, '/api/v3/core/groups/?name=SRE')).results[0];
    expect(sre).toMatchObject({ parent: groupPk(d, SEED_GROUPS.platform), parent_name: 'Platform' });
    expect(sre).not.toHaveProperty('parents');
    const root = (await page(server, '/api/v3/core/groups/?name=Engineering')).results[0];
    expect(root).toMatchObject({ parent: null, parent_name: null });
    const user = (await get(server, '/api/v3/core/users/1/')).body;
    expect(user).not.toHaveProperty('roles');
  });

  it('orders by name by default, by UUID for pk, by num_pk', async () => {
    const server = await start();
    const names = Object.values(SEED_GROUPS);
    expect((await page(server, '/api/v3/core/groups/?page_size=100')).results.map(g => g.name)).toEqual([...names].sort());
    const byPk = (await page(server, '/api/v3/core/groups/?page_size=100&ordering=pk')).results.map(g => g.pk as string);
    expect(byPk).toEqual([...byPk].sort());
    const byNumPk = (await page(server, '/api/v3/core/groups/?page_size=100&ordering=num_pk')).results.map(g => g.num_pk);
    expect(byNumPk).toEqual(names.map((_, i) => i + 1));
  });

  it('serves a group by UUID, 404 when missing', async () => {
    const server = await start();
    const pk = groupPk(server.directory, SEED_GROUPS.data);
    expect((await get(server, `/api/v3/core/groups/${pk}/`)).body).toMatchObject({ name: 'Data & Analytics' });
    expect((await get(server, '/api/v3/core/groups/00000000-0000-4000-8000-000000000000/')).status).toBe(404);
    expect((await get(server, '/api/v3/core/groups/nope/')).status).toBe(404);
  });
});

describe('failure injection and request counting', () => {
  it('fails the next n API requests, then recovers', async () => {
    const server = await start();
    server.failNext(2, 500);
    expect((await get(server, '/api/v3/core/users/')).status).toBe(500);
    expect((await get(server, '/api/v3/core/users/')).status).toBe(500);
    expect((await get(server, '/api/v3/core/users/')).status).toBe(200);
    expect(server.requests).toBe(3);

    server.failNext(1, 429);
    const throttled = await get(server, '/api/v3/core/groups/');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('0');
    expect(server.requests).toBe(4);
    server.resetRequestCount();
    expect(server.requests).toBe(0);
  });
});

describe('directory mutations', () => {
  it('derives user.groups and group.users from one membership', () => {
    const d = seedDemoDirectory();
    const platform = groupPk(d, SEED_GROUPS.platform);
    const carol = userPk(d, SEED_USERS.carol);
    const changes: ChangeDescription[] = [];
    d.onChange(change => changes.push(change));

    expect(d.addMember(platform, carol)).toMatchObject({ model: 'group', pk: platform, action: 'model_updated', name: 'Platform' });
    expect(d.getUser(carol)?.groups).toContain(platform);
    expect(d.getGroup(platform)?.users).toContain(carol);

    expect(d.setUserGroups(carol, [])).toMatchObject({ model: 'user', pk: carol, action: 'model_updated', name: 'Carol Smith' });
    expect(d.getGroup(platform)?.users).not.toContain(carol);

    expect(d.updateUser(carol, { is_active: false })).toMatchObject({ action: 'model_updated', name: 'Carol Smith' });
    expect(changes.map(c => `${c.model}:${c.action}`)).toEqual(['group:model_updated', 'user:model_updated', 'user:model_updated']);
  });

  it('deleting a group drops it from members and from children parents', () => {
    const d = seedDemoDirectory();
    const platform = groupPk(d, SEED_GROUPS.platform);
    const change = d.deleteGroup(platform);
    expect(change).toMatchObject({ model: 'group', action: 'model_deleted', name: 'Platform' });
    expect(d.findUserByUsername(SEED_USERS.alice)?.groups).not.toContain(platform);
    expect(d.findGroupByName(SEED_GROUPS.sre)?.parents).toEqual([groupPk(d, SEED_GROUPS.operations)]);
    expect(d.getGroup(platform)).toBeUndefined();
  });

  it('rejects duplicate names and unknown references', () => {
    const d = seedDemoDirectory();
    expect(() => d.addUser({ username: SEED_USERS.jane })).toThrow('unique');
    expect(() => d.addGroup({ name: SEED_GROUPS.sre })).toThrow('unique');
    expect(() => d.setGroupParents(groupPk(d, SEED_GROUPS.sre), ['00000000-0000-4000-8000-000000000000'])).toThrow('No Group');
  });

  it('exposes mutations over /demo', async () => {
    const server = await start();
    const d = server.directory;
    const sre = groupPk(d, SEED_GROUPS.sre);
    const created = await demo(server, 'POST', '/groups', { name: 'On-Call', parents: [sre] });
    expect(created.status).toBe(201);
    const onCall = created.body?.pk as string;
    expect(created.body).toMatchObject({ name: 'On-Call', parents: [sre] });
    expect((await demo(server, 'POST', `/groups/${onCall}/add_user`, { pk: 5 })).status).toBe(204);
    expect(d.getGroup(onCall)?.users).toEqual([5]);
    expect((await demo(server, 'POST', `/groups/${onCall}/remove_user`, { pk: 5 })).status).toBe(204);
    expect((await demo(server, 'PATCH', `/groups/${onCall}`, { name: 'On Call', parents: [] })).body).toMatchObject({ name: 'On Call', parents: [] });
    expect((await demo(server, 'PUT', '/users/6/groups', { groups: [onCall] })).body).toMatchObject({ groups: [onCall] });
    expect((await demo(server, 'PATCH', '/users/6', { is_active: false })).body).toMatchObject({ is_active: false });
    expect((await demo(server, 'DELETE', `/groups/${onCall}`)).status).toBe(204);
    expect(d.getUser(6)?.groups).toEqual([]);
    expect(await demo(server, 'POST', '/users', { username: SEED_USERS.jane })).toMatchObject({ status: 400, body: { username: ['This field must be unique.'] } });
    expect(await demo(server, 'POST', '/users', { name: 'no username' })).toMatchObject({ status: 400 });
    expect((await demo(server, 'DELETE', '/users/999')).status).toBe(404);
  });
});

interface Received {
  headers: IncomingHttpHeaders;
  body: Json;
}

/** A local webhook receiver; `statuses` are answered in turn (then 204). */
async function startReceiver(statuses: number[] = []): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const status = statuses.shift() ?? 204;
      if (status < 300) received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('webhooks', () => {
  it('POSTs the recommended mapping body with the Authorization header', async () => {
    const receiver = await startReceiver();
    try {
      const server = await start({ webhook: { url: receiver.url, secret: 's3cret', bodyForm: 'mapping' } });
      await demo(server, 'PATCH', '/users/2', { is_active: false });
      const sre = groupPk(server.directory, SEED_GROUPS.sre);
      await demo(server, 'POST', `/groups/${sre}/add_user`, { pk: 3 });
      await server.whenWebhooksIdle();

      expect(receiver.received).toHaveLength(2);
      const user = receiver.received.find(r => (r.body.model as Json).model_name === 'user');
      expect(user?.headers.authorization).toBe('Bearer s3cret');
      expect(user?.headers['content-type']).toBe('application/json');
      expect(user?.body).toEqual({
        version: 1,
        event_pk: expect.stringMatching(/^[0-9a-f]{32}$/),
        action: 'model_updated',
        created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/),
        model: { pk: 2, app: 'authentik_core', name: 'Jane Doe', model_name: 'user' },
      });
      const group = receiver.received.find(r => (r.body.model as Json).model_name === 'group');
      expect(group?.body.model).toEqual({ pk: sre.replace(/-/g, ''), app: 'authentik_core', name: 'SRE', model_name: 'group' });
      expect(server.webhookDeliveries).toMatchObject({ sent: 2, failed: 0, pending: 0 });
    } finally {
      await receiver.close();
    }
  });

  it("POSTs authentik's default body, with a Python repr of the context", async () => {
    const receiver = await startReceiver();
    try {
      const server = await start({ webhook: { url: receiver.url, secret: 'x', headerName: 'X-Backstage-Token', bodyForm: 'default' } });
      server.directory.updateUser(9, { email: 'frank@example.com' });
      await server.whenWebhooksIdle();
      const [delivery] = receiver.received;
      expect(delivery.headers['x-backstage-token']).toBe('Bearer x');
      expect(delivery.headers.authorization).toBeUndefined();
      expect(delivery.body).toEqual({
        body: expect.any(String),
        severity: 'notice',
        user_email: 'admin@demo.example',
        user_username: 'akadmin',
        event_user_email: 'admin@demo.example',
        event_user_username: 'akadmin',
      });
      expect(delivery.body.body).toMatch(
        new RegExp(
          '^model_updated: ' +
            escapeRegExp(`{'model': {'pk': 9, 'app': 'authentik_core', 'name': "Frank O'Callaghan", 'model_name': 'user'}, `) +
            escapeRegExp(`'http_request': {'args': {}, 'path': '/api/v3/core/users/9/', 'method': 'PATCH', 'request_id': '`) +
            `[0-9a-f]{32}` +
            escapeRegExp(`', 'user_agent': 'demo'}}`) +
            '$',
        ),
      );
    } finally {
      await receiver.close();
    }
  });

  it('retries non-2xx deliveries, gives up after maxRetries, and can duplicate', async () => {
    const flaky = await startReceiver([500, 503]);
    const down = await startReceiver([500, 500, 500, 500]);
    try {
      const retried = await start({ webhook: { url: flaky.url, bodyForm: 'mapping', retryDelayMs: 1 } });
      retried.directory.deleteUser(3);
      await retried.whenWebhooksIdle();
      expect(flaky.received).toHaveLength(1);
      expect(flaky.received[0].body).toMatchObject({ action: 'model_deleted', model: { pk: 3, name: 'José Núñez' } });
      expect(retried.webhookDeliveries).toMatchObject({ sent: 1, failed: 0, retried: 2 });

      const failing = await start({ webhook: { url: down.url, bodyForm: 'mapping', retryDelayMs: 1, maxRetries: 2 } });
      failing.directory.deleteUser(3);
      await failing.whenWebhooksIdle();
      expect(failing.webhookDeliveries).toMatchObject({ sent: 0, failed: 1, retried: 2 });

      flaky.received.length = 0;
      const doubled = await start({ webhook: { url: flaky.url, bodyForm: 'mapping', duplicate: true } });
      doubled.directory.addGroup({ name: 'Twice' });
      await doubled.whenWebhooksIdle();
      expect(flaky.received).toHaveLength(2);
      expect(flaky.received[0].body.event_pk).toBe(flaky.received[1].body.event_pk);
      expect(flaky.received[0].body.action).toBe('model_created');
    } finally {
      await Promise.all([flaky.close(), down.close()]);
    }
  });

  it('sends the transport test notification in both body forms', async () => {
    const receiver = await startReceiver();
    try {
      expect(await sendTestNotification({ url: receiver.url, secret: 't', bodyForm: 'default' })).toBe(true);
      const server = await start({ webhook: { url: receiver.url, secret: 't', bodyForm: 'mapping' } });
      expect(await server.sendTestNotification()).toBe(true);
      expect(receiver.received.map(r => r.body)).toEqual([
        { body: 'Test Notification from transport backstage', severity: 'notice', user_email: 'admin@demo.example', user_username: 'akadmin' },
        { version: 1, test: true, body: 'Test Notification from transport backstage' },
      ]);
      expect(receiver.received[1].headers.authorization).toBe('Bearer t');
    } finally {
      await receiver.close();
    }
  });
});

describe('pythonRepr', () => {
  it('renders scalars like Python', () => {
    expect(pythonRepr(null)).toBe('None');
    expect(pythonRepr(true)).toBe('True');
    expect(pythonRepr(false)).toBe('False');
    expect(pythonRepr(42)).toBe('42');
    expect(pythonRepr(-7)).toBe('-7');
    expect(pythonRepr(1.5)).toBe('1.5');
    expect(pythonRepr(0.1)).toBe('0.1');
    expect(pythonRepr(0.0001)).toBe('0.0001');
    expect(pythonRepr(0.00001)).toBe('1e-05');
    expect(pythonRepr(1.5e-7)).toBe('1.5e-07');
    expect(pythonRepr(12345678901234.5)).toBe('12345678901234.5');
    expect(pythonRepr(1.5e300)).toBe('1.5e+300');
  });

  it('quotes strings like Python', () => {
    expect(pythonRepr('plain')).toBe("'plain'");
    expect(pythonRepr("O'Brien")).toBe(`"O'Brien"`);
    expect(pythonRepr('say "hi"')).toBe(`'say "hi"'`);
    expect(pythonRepr(`both ' and "`)).toBe(`'both \\' and "'`);
    expect(pythonRepr('')).toBe("''");
  });

  it('escapes like Python', () => {
    expect(pythonRepr('a\\b')).toBe("'a\\\\b'");
    expect(pythonRepr('line\nbreak\ttab\rcr')).toBe("'line\\nbreak\\ttab\\rcr'");
    expect(pythonRepr('bell\x07del\x7f')).toBe("'bell\\x07del\\x7f'");
    expect(pythonRepr('José Núñez 😀 日本')).toBe("'José Núñez 😀 日本'");
    expect(pythonRepr('nb\u00a0sp')).toBe("'nb\\xa0sp'");
    expect(pythonRepr('zero\u200bwidth')).toBe("'zero\\u200bwidth'");
    expect(pythonRepr('\u2028')).toBe("'\\u2028'");
    expect(pythonRepr('\ud800')).toBe("'\\ud800'");
    expect(pythonRepr('\u{e0001}')).toBe("'\\U000e0001'");
  });

  it('orders dict keys like jsonb (byte length, then bytewise), recursively', () => {
    expect(pythonRepr({ model_name: 'user', name: 'Jane', pk: 42, app: 'authentik_core' })).toBe(
      "{'pk': 42, 'app': 'authentik_core', 'name': 'Jane', 'model_name': 'user'}",
    );
    // 'é' is two bytes in UTF-8: it ties with 'ab' on length and loses bytewise.
    expect(pythonRepr({ é: 1, ab: 2, b: 3, a: 4 })).toBe("{'a': 4, 'b': 3, 'ab': 2, 'é': 1}");
    expect(pythonRepr({ outer: { zz: [1, null, { b: true, a: false }], y: 'x' }, list: [] })).toBe(
      "{'list': [], 'outer': {'y': 'x', 'zz': [1, None, {'a': False, 'b': True}]}}",
    );
    expect(pythonRepr({})).toBe('{}');
  });
});

describe('seed and synthetic directories', () => {
  it('seeds the cases the provider must handle', () => {
    const d = seedDemoDirectory();
    expect(d.userCount).toBe(SEED_USER_COUNT);
    expect(d.groupCount).toBe(Object.keys(SEED_GROUPS).length);
    expect(d.findGroupByName(SEED_GROUPS.breakGlass)?.parents).toEqual([groupPk(d, SEED_GROUPS.admins)]);
    expect(d.findGroupByName(SEED_GROUPS.admins)?.is_superuser).toBe(true);
    expect(d.findUserByUsername(SEED_USERS.mallory)).toMatchObject({ is_active: false, groups: [groupPk(d, SEED_GROUPS.engineering), groupPk(d, SEED_GROUPS.backend)] });
    expect(d.findUserByUsername(SEED_USERS.pat)).toMatchObject({ email: '', avatar: expect.stringMatching(/^data:image\/svg\+xml;base64,/) });
    expect(d.findUserByUsername(SEED_USERS.ciBot)?.type).toBe('service_account');
    expect(d.findUserByUsername(SEED_USERS.outpost)).toMatchObject({ type: 'internal_service_account', path: 'goauthentik.io/outposts' });
    // Deterministic: same UUIDs and uids on every seed.
    expect(seedDemoDirectory().findGroupByName('SRE')?.pk).toBe(d.findGroupByName('SRE')?.pk);
    expect(seedDemoDirectory().getUser(2)?.uid).toBe(d.getUser(2)?.uid);
  });

  it('generates a deterministic synthetic directory with the requested shape', () => {
    const options = { users: 5_000, groups: 300, seed: 3 };
    const a = generateSyntheticDirectory(options);
    const b = generateSyntheticDirectory(options);
    expect(a.userCount).toBe(5_000);
    expect(a.groupCount).toBe(300);
    expect(a.getUser(1234)).toEqual(b.getUser(1234));
    expect([...a.groupRecords()].map(g => g.parents)).toEqual([...b.groupRecords()].map(g => g.parents));

    const users = [...a.userRecords()];
    const inactive = users.filter(u => !u.is_active).length / users.length;
    expect(inactive).toBeGreaterThan(0.01);
    expect(inactive).toBeLessThan(0.06);
    expect(users.some(u => u.type === 'service_account')).toBe(true);
    for (const user of users.filter(u => u.type === 'internal')) {
      const count = a.groupsOf(user.pk).size;
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(5);
    }
    const depth = new Map<string, number>();
    const depthOf = (pk: string): number => {
      const known = depth.get(pk);
      if (known !== undefined) return known;
      const parents = a.groupRecord(pk)?.parents ?? [];
      const value = 1 + Math.max(0, ...parents.map(depthOf));
      depth.set(pk, value);
      return value;
    };
    const groups = [...a.groupRecords()];
    expect(Math.max(...groups.map(g => depthOf(g.pk)))).toBeLessThanOrEqual(4);
    expect(groups.some(g => g.parents.length > 1)).toBe(true);
  });

  it('builds 100k users / 5k groups quickly and serves 100-user pages fast', async () => {
    const started = Date.now();
    const directory = generateSyntheticDirectory({ users: 100_000, groups: 5_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    const server = await start({ directory });
    await page(server, '/api/v3/core/users/?page_size=100'); // first request sorts once
    const t = Date.now();
    const middle = await page(server, '/api/v3/core/users/?page_size=100&page=500');
    expect(Date.now() - t).toBeLessThan(500);
    expect(middle.results).toHaveLength(100);
    expect(middle.pagination).toMatchObject({ count: 100_000, total_pages: 1_000, next: 501, previous: 499 });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
