import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import {
  aGroup,
  aLegacyGroup,
  aUser,
  BASE_URL,
  groupJson,
  groupUuid,
  legacyGroupJson,
  pageJson,
  undashed,
  userJson,
} from '../__testUtils__/fixtures';
import { AuthentikClient, AuthentikClientOptions } from './AuthentikClient';
import {
  AuthentikApiError,
  AuthentikPermissionError,
  AuthentikResponseError,
  AuthentikUnavailableError,
  classifyAuthentikError,
} from './errors';
import { parseRetryAfter } from './retryAfter';
import { parentPksOf } from './schemas';

/** Distinctive, so that any leak into an error message is found. */
const TOKEN = 'ak-test-TOKEN-9f3c2d7e5b1a-must-never-leak';
const API = `${BASE_URL}/api/v3`;

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function newClient(options: Partial<AuthentikClientOptions> = {}): AuthentikClient {
  return new AuthentikClient({ baseUrl: BASE_URL, token: TOKEN, retries: 2, minRetryDelayMs: 1, ...options });
}

type Reply = () => Response | Promise<Response>;

/**
 * Serves GET `path` with `replies` in turn (the last one from then on) and records every
 * request that reached the server.
 */
function serve(path: string, ...replies: Reply[]): Request[] {
  const requests: Request[] = [];
  server.use(
    http.get(`${API}${path}`, async ({ request }) => {
      requests.push(request.clone());
      return replies[Math.min(requests.length, replies.length) - 1]();
    }),
  );
  return requests;
}

const json = (body: unknown, status = 200, headers?: Record<string, string>): Reply => () =>
  HttpResponse.json(body as Record<string, unknown>, { status, headers });
const text = (body: string, status = 200): Reply => () =>
  new HttpResponse(body, { status, headers: { 'Content-Type': 'text/html' } });
const networkError: Reply = () => HttpResponse.error();
const hang: Reply = async () => {
  await delay('infinite');
  return HttpResponse.json({});
};

const users = [aUser({ pk: 1, username: 'akadmin' }), aUser({ pk: 2, groups: [groupUuid(1)] })];
const usersPage = pageJson(users.map(u => userJson(u)), { page: 1, pageSize: 20 });

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the request to fail');
}

function expectNoToken(error: Error): void {
  expect(error.message).not.toContain(TOKEN);
  expect(String(error)).not.toContain(TOKEN);
  expect(error.stack ?? '').not.toContain(TOKEN);
  expect(JSON.stringify({ ...error })).not.toContain(TOKEN);
}

describe('AuthentikClient requests', () => {
  it('sends the token as a bearer header and asks for JSON', async () => {
    const requests = serve('/core/users/', json(usersPage));
    await newClient().listUsers({ page: 1, pageSize: 20 });
    expect(requests).toHaveLength(1);
    expect(requests[0].method).toBe('GET');
    expect(requests[0].headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(requests[0].headers.get('accept')).toBe('application/json');
  });

  it('listUsers: ordering, pagination, no embedded groups or roles, server-side filters', async () => {
    const requests = serve('/core/users/', json(pageJson([], { page: 3, pageSize: 50, count: 100 })));
    await newClient().listUsers({
      page: 3,
      pageSize: 50,
      activeOnly: true,
      types: ['internal', 'external'],
      groupPk: undashed(groupUuid(1)),
    });
    const url = new URL(requests[0].url);
    expect(url.origin + url.pathname).toBe(`${API}/core/users/`);
    const params = url.searchParams;
    expect(params.get('ordering')).toBe('pk');
    expect(params.get('page')).toBe('3');
    expect(params.get('page_size')).toBe('50');
    expect(params.get('include_groups')).toBe('false');
    expect(params.get('include_roles')).toBe('false');
    expect(params.get('is_active')).toBe('true');
    expect(params.getAll('type')).toEqual(['internal', 'external']);
    expect(params.get('groups_by_pk')).toBe(groupUuid(1));
  });

  it('listUsers without filters sends none of them', async () => {
    const requests = serve('/core/users/', json(usersPage));
    await newClient().listUsers({ page: 1, pageSize: 20 });
    const params = new URL(requests[0].url).searchParams;
    expect(params.has('is_active')).toBe(false);
    expect(params.getAll('type')).toEqual([]);
    expect(params.has('groups_by_pk')).toBe(false);
    expect(params.get('ordering')).toBe('pk');
  });

  it('listUsers: last_updated__gt as an ISO time in UTC, from a Date or a string; refuses a non-time', async () => {
    const requests = serve('/core/users/', json(usersPage), json(usersPage));
    await newClient().listUsers({ page: 1, pageSize: 100, lastUpdatedAfter: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)) });
    await newClient().listUsers({ page: 1, pageSize: 100, lastUpdatedAfter: '2026-01-02T04:04:05.006+01:00' });
    for (const request of requests) {
      const params = new URL(request.url).searchParams;
      expect(params.get('last_updated__gt')).toBe('2026-01-02T03:04:05.006Z');
      expect(params.has('is_active')).toBe(false);
    }
    await expect(newClient().listUsers({ page: 1, pageSize: 100, lastUpdatedAfter: 'yesterday' })).rejects.toThrow(/not a time/);
    expect(requests).toHaveLength(2);
  });

  it('listGroups: ordering, pagination, no embedded users, children, parents or roles', async () => {
    const requests = serve('/core/groups/', json(pageJson([], { page: 2, pageSize: 10, count: 15 })));
    await newClient().listGroups({ page: 2, pageSize: 10 });
    const url = new URL(requests[0].url);
    expect(url.origin + url.pathname).toBe(`${API}/core/groups/`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      ordering: 'pk',
      page: '2',
      page_size: '10',
      include_users: 'false',
      include_children: 'false',
      include_parents: 'false',
      include_roles: 'false',
    });
  });

  it('getUser asks for /core/users/{pk}/', async () => {
    const requests = serve('/core/users/:pk/', json(userJson(users[1])));
    await newClient().getUser('2');
    const url = new URL(requests[0].url);
    expect(url.pathname).toBe('/api/v3/core/users/2/');
    expect(url.searchParams.get('include_groups')).toBe('false');
  });

  it('getUser refuses a pk that is not a number, without a request', async () => {
    const requests = serve('/core/users/:pk/', json(userJson(users[1])));
    const error = await failure(newClient().getUser('../groups'));
    expect(error).toBeInstanceOf(AuthentikApiError);
    expect(requests).toHaveLength(0);
  });

  it.each([
    ['dashed', groupUuid(5)],
    ['undashed', undashed(groupUuid(5))],
    ['uppercase undashed', undashed(groupUuid(5)).toUpperCase()],
  ])('getGroup asks for the dashed UUID (%s given)', async (_label, pk) => {
    const requests = serve('/core/groups/:uuid/', json(groupJson(aGroup({ num_pk: 5 }))));
    const group = await newClient().getGroup(pk);
    expect(new URL(requests[0].url).pathname).toBe(`/api/v3/core/groups/${groupUuid(5)}/`);
    expect(new URL(requests[0].url).searchParams.get('include_users')).toBe('false');
    expect(group?.pk).toBe(groupUuid(5));
  });

  it('getGroup refuses something that is not a UUID, without a request', async () => {
    const requests = serve('/core/groups/:uuid/', json({}));
    await expect(newClient().getGroup('not-a-uuid')).rejects.toBeInstanceOf(AuthentikApiError);
    expect(requests).toHaveLength(0);
  });

  it('reports every HTTP request to onRequest', async () => {
    serve('/core/users/', json({ detail: 'boom' }, 500), json(usersPage));
    const onRequest = jest.fn();
    await newClient({ onRequest }).listUsers({ page: 1, pageSize: 20 });
    expect(onRequest.mock.calls.map(([info]) => [info.path.split('?')[0], info.status])).toEqual([
      ['/core/users/', 500],
      ['/core/users/', 200],
    ]);
    for (const [info] of onRequest.mock.calls) expect(info.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe('AuthentikClient responses', () => {
  it('parses a page of users, tolerating and dropping unknown fields', async () => {
    serve(
      '/core/users/',
      json({
        ...usersPage,
        results: users.map(u => userJson(u, { something_new_in_2027: { nested: true } })),
        extra_envelope_field: 1,
      }),
    );
    const page = await newClient().listUsers({ page: 1, pageSize: 20 });
    expect(page).toEqual({
      pagination: usersPage.pagination,
      results: users.map(u => ({ ...u, last_updated: '2025-06-01T00:00:00.000000Z' })),
    });
    expect(page!.results[0]).not.toHaveProperty('something_new_in_2027');
    expect(page!.results[0]).not.toHaveProperty('uuid');
  });

  it('reads the last-page envelope: next and previous are 0, not null', async () => {
    const envelope = pageJson([userJson(users[0])], { page: 1, pageSize: 20 });
    expect(envelope.pagination.next).toBe(0);
    expect(envelope.pagination.previous).toBe(0);
    serve('/core/users/', json(envelope));
    const page = await newClient().listUsers({ page: 1, pageSize: 20 });
    expect(page!.pagination).toMatchObject({ next: 0, previous: 0, count: 1, total_pages: 1, current: 1 });
  });

  it('normalises null/absent optional user fields', async () => {
    const { name: _n, email: _e, type: _t, groups: _g, avatar: _a, path: _p, ...bare } = userJson(users[0]);
    serve('/core/users/:pk/', json({ ...bare, name: null, email: null }));
    const user = await newClient().getUser('1');
    expect(user).toMatchObject({ name: '', email: '', type: 'internal', groups: [] });
  });

  it('parses groups in the 2025.12+ shape (parents, children)', async () => {
    const parent = aGroup({ num_pk: 1, name: 'Parent' });
    const child = aGroup({ num_pk: 2, name: 'Child', parents: [parent.pk] });
    serve('/core/groups/', json(pageJson([groupJson(parent, { children: [child.pk] }), groupJson(child)])));
    const page = await newClient().listGroups({ page: 1, pageSize: 20 });
    expect(page!.results.map(g => [g.name, g.num_pk, parentPksOf(g)])).toEqual([
      ['Parent', 1, []],
      ['Child', 2, [undashed(parent.pk)]],
    ]);
  });

  it('parses groups in the ≤ 2025.10 shape (parent, parent_name)', async () => {
    const parent = aLegacyGroup({ num_pk: 1, name: 'Parent' });
    const child = aLegacyGroup({ num_pk: 2, name: 'Child', parent: parent.pk });
    serve('/core/groups/', json(pageJson([legacyGroupJson(parent), legacyGroupJson(child, 'Parent')])));
    const page = await newClient().listGroups({ page: 1, pageSize: 20 });
    expect(page!.results.map(g => [g.name, g.parent ?? null, parentPksOf(g)])).toEqual([
      ['Parent', null, []],
      ['Child', parent.pk, [undashed(parent.pk)]],
    ]);
  });

  it.each([
    ['listUsers', (c: AuthentikClient) => c.listUsers({ page: 9, pageSize: 20 }), '/core/users/'],
    ['listGroups', (c: AuthentikClient) => c.listGroups({ page: 9, pageSize: 20 }), '/core/groups/'],
  ])('%s: 404 "Invalid page." is the end of the list (undefined)', async (_label, call, path) => {
    const requests = serve(path, json({ detail: 'Invalid page.' }, 404));
    await expect(call(newClient())).resolves.toBeUndefined();
    expect(requests).toHaveLength(1);
  });

  it.each([
    ['getUser', (c: AuthentikClient) => c.getUser('404'), '/core/users/:pk/', 'No User matches the given query.'],
    ['getGroup', (c: AuthentikClient) => c.getGroup(groupUuid(404)), '/core/groups/:uuid/', 'No Group matches the given query.'],
  ])('%s: authentik\'s own 404 is "no such object" (undefined)', async (_label, call, path, detail) => {
    const requests = serve(path, json({ detail }, 404));
    await expect(call(newClient())).resolves.toBeUndefined();
    expect(requests).toHaveLength(1);
  });

  const html404 = text('<html><head><title>404 Not Found</title></head><body>nginx</body></html>', 404);
  const plain404: Reply = () => new HttpResponse('Not Found', { status: 404, headers: { 'Content-Type': 'text/plain' } });
  const untypedJson404: Reply = () => new HttpResponse(JSON.stringify({ detail: 'Invalid page.' }), { status: 404 });
  it.each<[string, (c: AuthentikClient) => Promise<unknown>, string, Reply]>([
    ['listUsers, HTML 404 (an ingress during a deploy)', c => c.listUsers({ page: 3, pageSize: 20 }), '/core/users/', html404],
    ['listGroups, HTML 404', c => c.listGroups({ page: 1, pageSize: 20 }), '/core/groups/', html404],
    ['listUsers, JSON 404 of another route', c => c.listUsers({ page: 2, pageSize: 20 }), '/core/users/', json({ detail: 'Not found.' }, 404)],
    ['listUsers, "Invalid page." without a JSON content type', c => c.listUsers({ page: 2, pageSize: 20 }), '/core/users/', untypedJson404],
    ['getUser, plain-text 404', c => c.getUser('7'), '/core/users/:pk/', plain404],
    ['getUser, the list\'s "Invalid page."', c => c.getUser('7'), '/core/users/:pk/', json({ detail: 'Invalid page.' }, 404)],
    ['getUser, DRF < 3.15 "Not found."', c => c.getUser('7'), '/core/users/:pk/', json({ detail: 'Not found.' }, 404)],
    ['getGroup, the user\'s message', c => c.getGroup(groupUuid(7)), '/core/groups/:uuid/', json({ detail: 'No User matches the given query.' }, 404)],
  ])('%s: not authentik\'s "gone" → retried, then AuthentikUnavailableError (never undefined)', async (_label, call, path, reply) => {
    const requests = serve(path, reply);
    const error = await failure(call(newClient()));
    expect(error).toBeInstanceOf(AuthentikUnavailableError);
    expect(error.message).toContain('404');
    expect(error.message).not.toContain(TOKEN);
    expect(requests).toHaveLength(3); // first attempt + 2 retries
    expect(classifyAuthentikError(error)).toBe('unavailable');
  });

  it('a foreign 404 that clears within the retries is read normally', async () => {
    const requests = serve('/core/users/', html404, json(pageJson([userJson(aUser({ pk: 1 }))])));
    const page = await newClient().listUsers({ page: 1, pageSize: 20 });
    expect(page?.results.map(u => u.pk)).toEqual([1]);
    expect(requests).toHaveLength(2);
  });

  it('malformed JSON → AuthentikResponseError saying "not JSON", not retried', async () => {
    const requests = serve('/core/users/', text('<html><body>Bad gateway page</body></html>'));
    const error = await failure(newClient().listUsers({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikResponseError);
    expect(error.message).toContain('not JSON');
    expect(error.message).toContain('GET /api/v3/core/users/');
    expect(requests).toHaveLength(1);
    expect(classifyAuthentikError(error)).toBe('response');
  });

  it.each<[string, string, () => unknown, string]>([
    [
      'user without pk',
      '/core/users/',
      () => {
        const { pk: _pk, ...user } = userJson(users[0]);
        return pageJson([userJson(users[1]), user]);
      },
      'results.1.pk',
    ],
    ['user with a string pk', '/core/users/', () => pageJson([userJson(users[0], { pk: '1' })]), 'results.0.pk'],
    ['is_active not a boolean', '/core/users/', () => pageJson([userJson(users[0], { is_active: 'yes' })]), 'results.0.is_active'],
    [
      'user without uid',
      '/core/users/',
      () => {
        const { uid: _uid, ...user } = userJson(users[0]);
        return pageJson([user]);
      },
      'results.0.uid',
    ],
    [
      'pagination without count',
      '/core/users/',
      () => {
        const page = pageJson([userJson(users[0])]);
        const { count: _count, ...pagination } = page.pagination;
        return { ...page, pagination };
      },
      'pagination.count',
    ],
    ['next: null instead of 0', '/core/users/', () => ({ ...usersPage, pagination: { ...usersPage.pagination, next: null } }), 'pagination.next'],
    ['no results', '/core/users/', () => ({ pagination: usersPage.pagination }), 'results'],
  ])('missing or mistyped field (%s) → AuthentikResponseError naming %s', async (_label, path, body, field) => {
    const requests = serve(path, json(body()));
    const error = await failure(newClient().listUsers({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikResponseError);
    expect(error.message).toContain(field);
    expect(requests).toHaveLength(1);
  });

  it('listUsersLazily reads the same page as listUsers, the users only on read()', async () => {
    const body = { ...usersPage, results: users.map(u => userJson(u, { attributes: { nested: [1] } })), autocomplete: {} };
    serve('/core/users/', json(body));
    const expected = await newClient().listUsers({ page: 1, pageSize: 20 });
    const lazy = await newClient().listUsersLazily({ page: 1, pageSize: 20 });
    expect(lazy!.pagination).toEqual(expected!.pagination);
    expect(lazy!.read()).toEqual(expected!.results);
    expect(() => lazy!.read()).toThrow('read once');
  });

  it('listUsersLazily: a body that does not start with the pagination is parsed at once, the same', async () => {
    const { pagination, results } = usersPage;
    serve('/core/users/', () => new HttpResponse(JSON.stringify({ results, pagination }), { headers: { 'Content-Type': 'application/json' } }));
    const lazy = await newClient().listUsersLazily({ page: 1, pageSize: 20 });
    expect(lazy!.pagination).toEqual(pagination);
    expect(lazy!.read().map(u => u.pk)).toEqual(users.map(u => u.pk));
  });

  it('listUsersLazily: past the end is undefined; a refused token fails at once', async () => {
    serve('/core/users/', json({ detail: 'Invalid page.' }, 404));
    expect(await newClient().listUsersLazily({ page: 9, pageSize: 20 })).toBeUndefined();
    serve('/core/users/', json({ detail: 'Token invalid/expired' }, 403));
    expect(await failure(newClient().listUsersLazily({ page: 1, pageSize: 20 }))).toBeInstanceOf(AuthentikPermissionError);
  });

  it.each<[string, () => unknown, string, 'at once' | 'on read']>([
    ['user with a string pk', () => pageJson([userJson(users[0], { pk: '1' })]), 'results.0.pk', 'on read'],
    ['is_active not a boolean', () => pageJson([userJson(users[0], { is_active: 'yes' })]), 'results.0.is_active', 'on read'],
    [
      'pagination without count',
      () => {
        const page = pageJson([userJson(users[0])]);
        const { count: _count, ...pagination } = page.pagination;
        return { ...page, pagination };
      },
      'pagination.count',
      'at once',
    ],
    ['next: null instead of 0', () => ({ ...usersPage, pagination: { ...usersPage.pagination, next: null } }), 'pagination.next', 'at once'],
    ['no results', () => ({ pagination: usersPage.pagination }), 'results', 'at once'],
  ])('listUsersLazily: %s → AuthentikResponseError naming %s, %s', async (_label, body, field, when) => {
    serve('/core/users/', json(body()));
    const read = newClient()
      .listUsersLazily({ page: 1, pageSize: 20 })
      .then(page => page!.read());
    const error = await failure(read);
    expect(error).toBeInstanceOf(AuthentikResponseError);
    expect(error.message).toContain(field);
    if (when === 'on read') {
      const page = await newClient().listUsersLazily({ page: 1, pageSize: 20 });
      expect(page!.pagination.count).toBe(1);
    }
  });

  it('listUsersLazily: malformed JSON fails at once, saying "not JSON"', async () => {
    serve('/core/users/', text('<html><body>Bad gateway page</body></html>'));
    const error = await failure(newClient().listUsersLazily({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikResponseError);
    expect(error.message).toContain('not JSON');
  });

  it('a group without a name → AuthentikResponseError naming results.0.name', async () => {
    const { name: _name, ...group } = groupJson(aGroup());
    serve('/core/groups/', json(pageJson([group])));
    const error = await failure(newClient().listGroups({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikResponseError);
    expect(error.message).toContain('results.0.name');
  });

  it.each([
    ['a string', ['12']],
    ['a fraction', [1.5]],
    ['not an array', 12],
  ])('a group whose member pks hold %s → AuthentikResponseError naming results.0.users', async (_label, users) => {
    serve('/core/groups/', json(pageJson([{ ...groupJson(aGroup()), users }])));
    const error = await failure(newClient().listGroups({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikResponseError);
    expect(error.message).toContain('results.0.users: expected an array of user pks (integers)');
  });

  it('getUser: a user without username → AuthentikResponseError naming the field', async () => {
    const { username: _u, ...user } = userJson(users[0]);
    serve('/core/users/:pk/', json(user));
    const error = await failure(newClient().getUser('1'));
    expect(error).toBeInstanceOf(AuthentikResponseError);
    expect(error.message).toContain('username');
  });

  it('400 → AuthentikResponseError with the detail, not retried', async () => {
    const requests = serve('/core/users/', json({ detail: 'Invalid ordering field' }, 400));
    const error = await failure(newClient().listUsers({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikResponseError);
    expect(error.message).toContain('Invalid ordering field');
    expect((error as AuthentikResponseError).status).toBe(400);
    expect(requests).toHaveLength(1);
  });
});

describe('AuthentikClient: refused tokens', () => {
  it.each([
    [401, 'Authentication credentials were not provided.'],
    [403, 'Token invalid/expired'],
    [403, 'You do not have permission to perform this action.'],
  ])('%d (%s) → AuthentikPermissionError naming view_user, not retried', async (status, detail) => {
    const requests = serve('/core/users/', json({ detail }, status));
    const error = await failure(newClient().listUsers({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikPermissionError);
    expect(classifyAuthentikError(error)).toBe('permission');
    expect((error as AuthentikPermissionError).status).toBe(status);
    expect(error.message).toContain('view_user');
    expect(error.message).toContain('view_group');
    expect(error.message).toContain(detail);
    expect(error.message).toContain('GET /api/v3/core/users/');
    expectNoToken(error);
    expect(requests).toHaveLength(1);
  });

  it.each([
    ['getUser', (c: AuthentikClient) => c.getUser('1'), '/core/users/:pk/'],
    ['getGroup', (c: AuthentikClient) => c.getGroup(groupUuid(1)), '/core/groups/:uuid/'],
    ['listGroups', (c: AuthentikClient) => c.listGroups({ page: 1, pageSize: 20 }), '/core/groups/'],
  ])('%s: 403 → AuthentikPermissionError', async (_label, call, path) => {
    serve(path, json({ detail: 'Token invalid/expired' }, 403));
    const error = await failure(call(newClient()));
    expect(error).toBeInstanceOf(AuthentikPermissionError);
    expectNoToken(error);
  });

  it('403 with a non-JSON body still says what to do', async () => {
    serve('/core/users/', text('Forbidden', 403));
    const error = await failure(newClient().listUsers({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikPermissionError);
    expect(error.message).toContain('view_user');
  });

  it.each<[string, Reply[], string]>([
    ['401', [json({ detail: 'Authentication credentials were not provided.' }, 401)], 'AuthentikPermissionError'],
    ['403', [json({ detail: 'Token invalid/expired' }, 403)], 'AuthentikPermissionError'],
    ['500 forever', [json({ detail: 'Internal error' }, 500)], 'AuthentikUnavailableError'],
    ['429 with a long Retry-After', [json({}, 429, { 'Retry-After': '3600' })], 'AuthentikUnavailableError'],
    ['network error', [networkError], 'AuthentikUnavailableError'],
    ['malformed JSON', [text('nope')], 'AuthentikResponseError'],
    ['missing field', [json(pageJson([{ username: 'x' }]))], 'AuthentikResponseError'],
    ['400', [json({ detail: 'bad' }, 400)], 'AuthentikResponseError'],
  ])('the token appears in no error message (%s)', async (_label, replies, name) => {
    serve('/core/users/', ...replies);
    // Aborted afterwards only to clear the client's dangling Retry-After sleep (see report).
    const controller = new AbortController();
    try {
      const error = await failure(newClient().listUsers({ page: 1, pageSize: 20, signal: controller.signal }));
      expect(error.name).toBe(name);
      expectNoToken(error);
    } finally {
      controller.abort();
    }
  });
});

describe('AuthentikClient retries', () => {
  it('429 with Retry-After: 1, then 200 → succeeds after waiting at least the Retry-After', async () => {
    const requests = serve('/core/users/', json({ detail: 'slow down' }, 429, { 'Retry-After': '1' }), json(usersPage));
    const started = performance.now();
    const page = await newClient({ minRetryDelayMs: 1 }).listUsers({ page: 1, pageSize: 20 });
    const elapsed = performance.now() - started;
    expect(page!.results).toHaveLength(2);
    expect(requests).toHaveLength(2);
    // A lower bound only: the Retry-After was honoured (the backoff alone is 1 ms).
    expect(elapsed).toBeGreaterThanOrEqual(900);
  });

  it('429 without Retry-After is retried with backoff', async () => {
    const requests = serve('/core/users/', json({}, 429), json({}, 429), json(usersPage));
    await expect(newClient().listUsers({ page: 1, pageSize: 20 })).resolves.toBeDefined();
    expect(requests).toHaveLength(3);
  });

  it('a Retry-After longer than maxRetryAfterMs ends the retries', async () => {
    const requests = serve('/core/users/', json({}, 429, { 'Retry-After': '120' }), json(usersPage));
    // Aborted afterwards only to clear the client's dangling Retry-After sleep (see report).
    const controller = new AbortController();
    try {
      const error = await failure(
        newClient({ maxRetryAfterMs: 5_000 }).listUsers({ page: 1, pageSize: 20, signal: controller.signal }),
      );
      expect(error).toBeInstanceOf(AuthentikUnavailableError);
      expect((error as AuthentikUnavailableError).status).toBe(429);
      expect((error as AuthentikUnavailableError).retryAfterMs).toBe(120_000);
      expect(requests).toHaveLength(1);
    } finally {
      controller.abort();
    }
  });

  it('500 twice, then 200 → succeeds', async () => {
    const requests = serve('/core/users/', json({ detail: 'oops' }, 500), json({ detail: 'oops' }, 500), json(usersPage));
    const page = await newClient({ retries: 2 }).listUsers({ page: 1, pageSize: 20 });
    expect(page!.results.map(u => u.pk)).toEqual([1, 2]);
    expect(requests).toHaveLength(3);
  });

  it.each([0, 1, 3])('503 forever → AuthentikUnavailableError after retries+1 attempts (retries=%d)', async retries => {
    const requests = serve('/core/users/', json({ detail: 'Service Unavailable' }, 503));
    const error = await failure(newClient({ retries }).listUsers({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikUnavailableError);
    expect(classifyAuthentikError(error)).toBe('unavailable');
    expect((error as AuthentikUnavailableError).status).toBe(503);
    expect(error.message).toContain('Service Unavailable');
    expect(requests).toHaveLength(retries + 1);
  });

  it('retries 4 times by default', async () => {
    const requests = serve('/core/groups/', json({}, 502));
    await expect(
      new AuthentikClient({ baseUrl: BASE_URL, token: TOKEN, minRetryDelayMs: 1 }).listGroups({ page: 1, pageSize: 5 }),
    ).rejects.toBeInstanceOf(AuthentikUnavailableError);
    expect(requests).toHaveLength(5);
  });

  it('a network error is retried', async () => {
    const requests = serve('/core/users/', networkError, json(usersPage));
    await expect(newClient().listUsers({ page: 1, pageSize: 20 })).resolves.toBeDefined();
    expect(requests).toHaveLength(2);
  });

  it('network errors forever → AuthentikUnavailableError after retries+1 attempts', async () => {
    const requests = serve('/core/users/', networkError);
    const error = await failure(newClient({ retries: 2 }).listUsers({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikUnavailableError);
    expect((error as AuthentikUnavailableError).status).toBeUndefined();
    expect(error.message).toContain('network error');
    expect(requests).toHaveLength(3);
  });

  it('a request that outlives requestTimeoutMs is retried', async () => {
    const requests = serve('/core/users/', hang, json(usersPage));
    await expect(newClient({ requestTimeoutMs: 50 }).listUsers({ page: 1, pageSize: 20 })).resolves.toBeDefined();
    expect(requests).toHaveLength(2);
  });

  it('getUser is retried like lists', async () => {
    const requests = serve('/core/users/:pk/', json({}, 500), json(userJson(users[0])));
    await expect(newClient().getUser('1')).resolves.toMatchObject({ pk: 1 });
    expect(requests).toHaveLength(2);
  });
});

describe('AuthentikClient: AbortSignal', () => {
  it('an already aborted signal makes no request', async () => {
    const requests = serve('/core/users/', json(usersPage));
    const controller = new AbortController();
    const reason = new Error('walk cancelled');
    controller.abort(reason);
    await expect(newClient().listUsers({ page: 1, pageSize: 20, signal: controller.signal })).rejects.toBe(reason);
    expect(requests).toHaveLength(0);
  });

  it('aborts a pending request, without retrying it', async () => {
    const controller = new AbortController();
    let arrived!: () => void;
    const reached = new Promise<void>(resolve => (arrived = resolve));
    const requests = serve(
      '/core/users/',
      async () => {
        arrived();
        return hang();
      },
      json(usersPage),
    );
    const pending = newClient().listUsers({ page: 1, pageSize: 20, signal: controller.signal });
    await reached;
    controller.abort();
    const error = await failure(pending);
    expect(error.name).toBe('AbortError');
    expect(error).not.toBeInstanceOf(AuthentikUnavailableError);
    expect(requests).toHaveLength(1);
  });

  it('aborts the wait for a Retry-After', async () => {
    const controller = new AbortController();
    const reason = new Error('walk cancelled');
    // Without abort support this would wait 5 s and then succeed.
    const requests = serve('/core/users/', json({}, 429, { 'Retry-After': '5' }), json(usersPage));
    const client = newClient({
      onRequest: info => {
        if (info.status === 429) controller.abort(reason);
      },
    });
    await expect(client.listUsers({ page: 1, pageSize: 20, signal: controller.signal })).rejects.toBe(reason);
    expect(requests).toHaveLength(1);
  });

  it('aborts the backoff between retries', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const requests = serve('/core/users/:pk/', json({}, 500), json(userJson(users[0])));
    const client = newClient({
      minRetryDelayMs: 30_000,
      onRequest: info => {
        if (info.status === 500) setTimeout(() => controller.abort(reason), 10);
      },
    });
    await expect(client.getUser('1', controller.signal)).rejects.toBe(reason);
    expect(requests).toHaveLength(1);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each<[string | null, number | undefined]>([
    ['1', 1000],
    ['0', 0],
    ['1.5', 1500],
    [' 2 ', 2000],
    ['120', 120_000],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
  ])('%j → %j ms', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});

describe('AuthentikClient transport (node:http)', () => {
  it('reports a redirect with its Location instead of following it, and does not retry it', async () => {
    const requests = serve('/core/users/', () => new HttpResponse(null, { status: 301, headers: { Location: 'https://sso.example.com/api/v3/core/users/' } }));
    const error = await failure(newClient().listUsers({ page: 1, pageSize: 20 }));
    expect(error).toBeInstanceOf(AuthentikResponseError);
    expect(error.message).toContain('(301)');
    expect(error.message).toContain('redirect to https://sso.example.com/api/v3/core/users/');
    expect(error.message).toContain('catalog.providers.authentik.baseUrl');
    expect(requests).toHaveLength(1);
  });

  it.each(['gzip', 'deflate', 'br'] as const)('reads a %s-compressed answer (never asked for, but a proxy may send one)', async encoding => {
    const zlib = await import('node:zlib');
    const raw = Buffer.from(JSON.stringify(usersPage));
    const body = encoding === 'gzip' ? zlib.gzipSync(raw) : encoding === 'deflate' ? zlib.deflateSync(raw) : zlib.brotliCompressSync(raw);
    serve('/core/users/', () => new HttpResponse(body, { headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding } }));
    const page = await newClient().listUsers({ page: 1, pageSize: 20 });
    expect(page?.results.map(user => user.pk)).toEqual([1, 2]);
  });

  it('does not ask for compression, and sends the token and Accept', async () => {
    const requests = serve('/core/users/', json(usersPage));
    await newClient().listUsers({ page: 1, pageSize: 20 });
    expect(requests[0].headers.get('accept-encoding')).toBeNull();
    expect(requests[0].headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(requests[0].headers.get('accept')).toBe('application/json');
  });

  it('talks to a real server over keep-alive connections: one socket for sequential requests', async () => {
    const { createServer } = await import('node:http');
    const sockets = new Set<unknown>();
    const real = createServer((req, res) => {
      sockets.add(req.socket);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(usersPage));
    });
    await new Promise<void>(resolve => real.listen(0, '127.0.0.1', resolve));
    server.close(); // msw off for this test: a real socket
    try {
      const { port } = real.address() as { port: number };
      const client = new AuthentikClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN });
      for (let i = 0; i < 3; i++) expect((await client.listUsers({ page: 1, pageSize: 20 }))?.results).toHaveLength(2);
      expect(sockets.size).toBe(1);
    } finally {
      real.closeAllConnections();
      await new Promise(resolve => real.close(resolve));
      server.listen({ onUnhandledRequest: 'error' });
    }
  });
});
