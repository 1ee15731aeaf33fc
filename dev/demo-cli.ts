/**
 * `npm run demo -- <command>`: changes the demo authentik of a running `npm start`, which
 * then sends authentik-shaped webhooks to the dev backend. Watch the change land with
 *   curl -H 'Authorization: Bearer dev-catalog-token' localhost:7007/api/catalog/entities/by-name/user/default/<name>
 */
import { DEMO_AUTHENTIK_PORT, DEMO_TOKEN } from './demoDefaults';

const base = `http://127.0.0.1:${process.env.DEMO_AUTHENTIK_PORT ?? DEMO_AUTHENTIK_PORT}`;

const USAGE = `Usage: npm run demo -- <command> [arguments]

  list                                   users and groups of the demo directory
  add-user <username> [display name]     create an active user
  deactivate <username>                  set is_active: false (the user leaves the catalog)
  activate <username>                    set is_active: true
  rename-user <username> <new username>
  delete-user <username>
  add-group <name> [parent group]
  rename-group <name> <new name>
  delete-group <name>
  add-member <group> <username>          authentik's add_user (an event on the group)
  remove-member <group> <username>       authentik's remove_user (an event on the group)
  set-groups <username> [group...]       replace a user's groups (an event on the user)
`;

interface ApiUser {
  pk: number;
  username: string;
  name: string;
  is_active: boolean;
  type: string;
}

interface ApiGroup {
  pk: string;
  name: string;
}

async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${DEMO_TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch(() => {
    throw new Error(`The demo authentik is not running at ${base}: start it with "npm start"`);
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${method} ${path} failed (${response.status}): ${text}`);
  }
  return text ? JSON.parse(text) : undefined;
}

async function listAll<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; ; page++) {
    const result = (await call('GET', `/api/v3${path}${path.includes('?') ? '&' : '?'}page=${page}&page_size=100`)) as {
      results: T[];
      pagination: { next: number };
    };
    items.push(...result.results);
    if (result.pagination.next === 0) return items;
  }
}

async function user(username: string): Promise<ApiUser> {
  const found = (await listAll<ApiUser>('/core/users/?include_groups=false')).find(u => u.username === username);
  if (!found) throw new Error(`No user "${username}" (see "npm run demo -- list")`);
  return found;
}

async function group(name: string): Promise<ApiGroup> {
  const found = (await listAll<ApiGroup>('/core/groups/?include_users=false')).find(g => g.name === name);
  if (!found) throw new Error(`No group "${name}" (see "npm run demo -- list")`);
  return found;
}

async function main(args: string[]): Promise<void> {
  const [command, a, b, ...rest] = args;
  switch (command) {
    case 'list': {
      for (const u of await listAll<ApiUser>('/core/users/?include_groups=false')) {
        console.log(`user  ${String(u.pk).padEnd(4)} ${u.username.padEnd(28)} ${u.is_active ? 'active  ' : 'inactive'} ${u.type}`);
      }
      for (const g of await listAll<ApiGroup>('/core/groups/?include_users=false')) {
        console.log(`group ${g.pk} ${g.name}`);
      }
      return;
    }
    case 'add-user':
      await call('POST', '/demo/users', { username: a, name: b ?? a, email: `${a}@example.com` });
      break;
    case 'deactivate':
    case 'activate':
      await call('PATCH', `/demo/users/${(await user(a)).pk}`, { is_active: command === 'activate' });
      break;
    case 'rename-user':
      await call('PATCH', `/demo/users/${(await user(a)).pk}`, { username: b });
      break;
    case 'delete-user':
      await call('DELETE', `/demo/users/${(await user(a)).pk}`);
      break;
    case 'add-group':
      await call('POST', '/demo/groups', { name: a, parents: b ? [(await group(b)).pk] : [] });
      break;
    case 'rename-group':
      await call('PATCH', `/demo/groups/${(await group(a)).pk}`, { name: b });
      break;
    case 'delete-group':
      await call('DELETE', `/demo/groups/${(await group(a)).pk}`);
      break;
    case 'add-member':
    case 'remove-member':
      await call('POST', `/demo/groups/${(await group(a)).pk}/${command === 'add-member' ? 'add_user' : 'remove_user'}`, {
        pk: (await user(b)).pk,
      });
      break;
    case 'set-groups': {
      const groups = await Promise.all([b, ...rest].filter(Boolean).map(async name => (await group(name)).pk));
      await call('PUT', `/demo/users/${(await user(a)).pk}/groups`, { groups });
      break;
    }
    default:
      console.log(USAGE);
      return;
  }
  console.log(`Done: ${command} ${[a, b, ...rest].filter(Boolean).join(' ')}. Recorded in the event log; the webhook (if enabled) is on its way to the dev backend.`);
}

main(process.argv.slice(2)).catch(error => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
