import { initialsAvatar } from './avatar';
import { DemoDirectory, NewUser } from './directory';

/**
 * A small, realistic company ("Demo Corp") covering the cases the provider must handle:
 * nested groups, a group with two parents, an excluded admin group with a child,
 * inactive members, service accounts, an outpost account, an empty email and names that
 * need sanitising. Everything is deterministic: pks, UUIDs, uids and dates.
 */

export const SEED_GROUPS = {
  admins: 'Authentik Admins',
  breakGlass: 'Break Glass',
  engineering: 'Engineering',
  platform: 'Platform',
  frontend: 'Frontend',
  backend: 'Backend',
  operations: 'Operations',
  sre: 'SRE',
  data: 'Data & Analytics',
  design: 'Design',
  sales: 'Sales',
  people: 'People',
  contractors: 'Contractors',
} as const;

export const SEED_USERS = {
  admin: 'akadmin',
  jane: 'Jane.Doe@Example.com',
  jose: 'josé.núñez',
  alice: 'alice.nguyen',
  bob: 'bob.martin',
  carol: 'carol.smith',
  dave: 'dave.wilson',
  erin: 'erin.garcia',
  frank: 'frank.ocallaghan',
  grace: 'grace.hopper',
  heidi: 'heidi.schmidt',
  ivan: 'ivan.petrov',
  judy: 'judy.chen',
  mallory: 'mallory.jones',
  oscar: 'oscar.lee',
  peggy: 'peggy.brown',
  trent: 'trent.adams',
  victor: 'victor.kim',
  walter: 'walter.jansen',
  zoe: 'zoe.mueller',
  quinn: 'quinn.taylor',
  pat: 'pat.morgan',
  rupert: 'rupert.external',
  ciBot: 'ci-bot',
  outpost: 'ak-outpost-8f14e45fceea467fa0e2c1d7b3a9f201',
} as const;

/** The `excludeGroups` entry (sanitised name) that leaves the admin group out. */
export const SEED_EXCLUDED_GROUP = 'authentik-admins';

/** Users created inactive (still members of groups). */
export const SEED_INACTIVE_USERS: readonly string[] = [SEED_USERS.mallory, SEED_USERS.victor];

const G = SEED_GROUPS;
const U = SEED_USERS;

/** Parents are listed before children; SRE has two parents. */
const GROUPS: ReadonlyArray<{ name: string; parents?: string[]; is_superuser?: boolean; attributes?: Record<string, string> }> = [
  { name: G.admins, is_superuser: true },
  { name: G.breakGlass, parents: [G.admins] },
  { name: G.engineering, attributes: { costCenter: 'ENG-100' } },
  { name: G.platform, parents: [G.engineering] },
  { name: G.frontend, parents: [G.engineering] },
  { name: G.backend, parents: [G.engineering] },
  { name: G.operations },
  { name: G.sre, parents: [G.platform, G.operations] },
  { name: G.data },
  { name: G.design },
  { name: G.sales },
  { name: G.people },
  { name: G.contractors },
];

type SeedUser = Omit<NewUser, 'groups'> & { groups?: string[] };

const USERS: readonly SeedUser[] = [
  { username: U.admin, name: 'authentik Default Admin', email: 'admin@demo.example', groups: [G.admins] },
  { username: U.jane, name: 'Jane Doe', email: 'jane.doe@example.com', groups: [G.engineering, G.platform] },
  { username: U.jose, name: 'José Núñez', email: 'jose.nunez@example.com', groups: [G.frontend, G.design] },
  { username: U.alice, name: 'Alice Nguyen', email: 'alice.nguyen@example.com', groups: [G.platform, G.sre] },
  { username: U.bob, name: 'Bob Martin', email: 'bob.martin@example.com', groups: [G.sre, G.operations] },
  { username: U.carol, name: 'Carol Smith', email: 'carol.smith@example.com', groups: [G.engineering] },
  { username: U.dave, name: 'Dave Wilson', email: 'dave.wilson@example.com', groups: [G.frontend] },
  { username: U.erin, name: 'Erin Garcia', email: 'erin.garcia@example.com', groups: [G.backend] },
  { username: U.frank, name: "Frank O'Callaghan", email: 'frank.ocallaghan@example.com', groups: [G.backend] },
  { username: U.grace, name: 'Grace Hopper', email: 'grace.hopper@example.com', groups: [G.data] },
  { username: U.heidi, name: 'Heidi Schmidt', email: 'heidi.schmidt@example.com', groups: [G.data] },
  { username: U.ivan, name: 'Ivan Petrov', email: 'ivan.petrov@example.com', groups: [G.operations] },
  { username: U.judy, name: 'Judy Chen', email: 'judy.chen@example.com', groups: [G.design] },
  { username: U.mallory, name: 'Mallory Jones', email: 'mallory.jones@example.com', is_active: false, groups: [G.engineering, G.backend] },
  { username: U.oscar, name: 'Oscar Lee', email: 'oscar.lee@example.com', groups: [G.sales] },
  { username: U.peggy, name: 'Peggy Brown', email: 'peggy.brown@example.com', groups: [G.people] },
  { username: U.trent, name: 'Trent Adams', email: 'trent.adams@example.com', groups: [G.sales, G.people] },
  { username: U.victor, name: 'Victor Kim', email: 'victor.kim@example.com', is_active: false, groups: [G.frontend] },
  { username: U.walter, name: 'Walter Jansen', email: 'walter.jansen@example.com', groups: [G.operations, G.breakGlass] },
  { username: U.zoe, name: 'Zoë Müller', email: 'zoe.mueller@example.com', groups: [G.frontend, G.data] },
  { username: U.quinn, name: 'Quinn Taylor', email: 'quinn.taylor@example.com', groups: [G.platform, G.operations] },
  // No email: gets an initials avatar (data URI) like authentik's "initials" mode.
  { username: U.pat, name: 'Pat Morgan', email: '', groups: [G.people] },
  { username: U.rupert, name: 'Rupert Graves', email: 'rupert@partner.example', type: 'external', groups: [G.contractors] },
  { username: U.ciBot, name: 'CI Bot', email: '', type: 'service_account', path: 'goauthentik.io/service-accounts', avatar: initialsAvatar('CI Bot') },
  { username: U.outpost, name: 'Outpost authentik Embedded Outpost Service-Account', email: '', type: 'internal_service_account', path: 'goauthentik.io/outposts' },
];

const JOINED_BASE = Date.UTC(2024, 2, 1, 9, 0, 0);
const DAY = 24 * 60 * 60 * 1000;

export function seedDemoDirectory(options: { now?: () => number } = {}): DemoDirectory {
  const directory = new DemoDirectory(options);
  for (const group of GROUPS) {
    directory.addGroup({
      name: group.name,
      parents: (group.parents ?? []).map(name => pkOfGroup(directory, name)),
      is_superuser: group.is_superuser,
      attributes: group.attributes,
    });
  }
  USERS.forEach((user, index) => {
    directory.addUser({
      ...user,
      date_joined: JOINED_BASE + index * DAY,
      groups: (user.groups ?? []).map(name => pkOfGroup(directory, name)),
    });
  });
  return directory;
}

function pkOfGroup(directory: DemoDirectory, name: string): string {
  const group = directory.findGroupByName(name);
  if (!group) throw new Error(`seed: unknown group ${name}`);
  return group.pk;
}
