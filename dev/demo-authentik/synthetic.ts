import { DemoDirectory } from './directory';
import { pick, seededRandom } from './random';
import { UserType } from './types';

/**
 * A large directory for benchmarks. Deterministic for a given seed. Shape:
 * ~2% root groups, the rest nested under earlier groups (so the hierarchy is a DAG) up to
 * MAX_DEPTH levels, ~1% of groups with a second parent; each user in 1–5 groups (a few
 * groups get very large), ~3% inactive, ~1% service accounts, a few outpost accounts,
 * ~2% external users, ~1% without email.
 */
export interface SyntheticOptions {
  users: number;
  groups: number;
  seed?: number;
}

const MAX_DEPTH = 4;
const JOINED_BASE = Date.UTC(2020, 0, 1);
const MINUTE = 60_000;

const FIRST = ['Ada', 'Ben', 'Chloé', 'Dmitri', 'Elif', 'Farah', 'Goran', 'Hana', 'Ines', 'Jonas', 'Kenji', 'Lena', 'Mateo', 'Nadia', 'Omar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Viktor', 'Wei', 'Ximena', 'Yusuf', 'Zoë'];
const LAST = ['Abbott', 'Berg', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Horvat', 'Ivanova', 'Jensen', 'Kowalski', 'Lindqvist', 'Moreau', 'Novak', "O'Brien", 'Patel', 'Quinn', 'Rossi', 'Schmidt', 'Tanaka', 'Ueda', 'Varga', 'Weber', 'Yilmaz', 'Zhang'];
const AREAS = ['Engineering', 'Operations', 'Sales', 'Marketing', 'Finance', 'People', 'Legal', 'Support', 'Research', 'Data & Analytics'];
const TEAMS = ['Platform', 'Payments', 'Identity', 'Mobile', 'Web', 'Infra', 'Growth', 'Billing', 'Search', 'Security', 'Reliability', 'Tooling'];

export function generateSyntheticDirectory(options: SyntheticOptions): DemoDirectory {
  const random = seededRandom(options.seed ?? 42);
  const directory = new DemoDirectory();
  const groupPks = addGroups(directory, Math.max(0, options.groups), random);
  addUsers(directory, Math.max(0, options.users), groupPks, random);
  return directory;
}

function addGroups(directory: DemoDirectory, count: number, random: () => number): string[] {
  const pks: string[] = [];
  const depths: number[] = [];
  const roots = Math.max(1, Math.round(count * 0.02));
  for (let i = 0; i < count; i += 1) {
    const parents: number[] = [];
    if (i >= roots) {
      const first = pickParent(depths, i, random, MAX_DEPTH - 1);
      parents.push(first);
      // A second parent no deeper than the first keeps the depth bound.
      if (random() < 0.01) {
        const second = pickParent(depths, i, random, depths[first]);
        if (second !== first) parents.push(second);
      }
    }
    depths.push(parents.length === 0 ? 1 : 1 + Math.max(...parents.map(p => depths[p])));
    const name = i < roots ? rootName(i) : `${pick(random, TEAMS)} ${pick(random, TEAMS)} ${i}`;
    const change = directory.addGroup({ name, parents: parents.map(p => pks[p]) });
    pks.push(change.pk);
  }
  return pks;
}

function rootName(index: number): string {
  const area = AREAS[index % AREAS.length];
  return index < AREAS.length ? area : `${area} ${Math.floor(index / AREAS.length) + 1}`;
}

/** An earlier group with depth ≤ maxDepth (falls back to a root). */
function pickParent(depths: number[], before: number, random: () => number, maxDepth: number): number {
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const candidate = Math.floor(random() * before);
    if (depths[candidate] <= maxDepth) return candidate;
  }
  return 0;
}

function addUsers(directory: DemoDirectory, count: number, groupPks: string[], random: () => number): void {
  const outposts = Math.max(1, Math.round(count / 25_000));
  for (let i = 0; i < count; i += 1) {
    const pk = i + 1;
    const roll = random();
    const type: UserType = i < outposts ? 'internal_service_account' : roll < 0.01 ? 'service_account' : roll < 0.03 ? 'external' : 'internal';
    const first = pick(random, FIRST);
    const last = pick(random, LAST);
    const human = type === 'internal' || type === 'external';
    const username = usernameFor(type, first, last, pk);
    directory.addUser({
      pk,
      username,
      name: human ? `${first} ${last}` : type === 'service_account' ? `Service ${pk}` : `Outpost ${pk} Service-Account`,
      email: human && random() >= 0.01 ? `${username}@synthetic.example` : '',
      is_active: random() >= 0.03,
      type,
      path: type === 'internal_service_account' ? 'goauthentik.io/outposts' : type === 'service_account' ? 'goauthentik.io/service-accounts' : 'users',
      date_joined: JOINED_BASE + pk * MINUTE,
      groups: human ? membershipFor(groupPks, random) : [],
    });
  }
}

function usernameFor(type: UserType, first: string, last: string, pk: number): string {
  if (type === 'internal_service_account') return `ak-outpost-${pk.toString(16).padStart(32, '0')}`;
  if (type === 'service_account') return `svc-${pk}`;
  // The pk suffix keeps usernames unique without a lookup.
  return `${first}.${last}.${pk}`.toLowerCase().replace(/'/g, '');
}

/** 1–5 groups, biased to 1–2; a third of the picks favour low indexes (big, shallow groups). */
function membershipFor(groupPks: string[], random: () => number): string[] {
  if (groupPks.length === 0) return [];
  const count = 1 + Math.floor(random() * random() * 5);
  const chosen = new Set<string>();
  for (let k = 0; k < count; k += 1) {
    const r = random();
    const index = random() < 0.33 ? Math.floor(groupPks.length * r * r * r) : Math.floor(groupPks.length * r);
    chosen.add(groupPks[index]);
  }
  return [...chosen];
}
