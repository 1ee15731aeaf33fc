/**
 * The catalog a full walk of a demo directory must produce, computed from the directory
 * itself and the SPEC's rules — never from this module's mapping functions:
 *
 * - users: active, type `internal` or `external` (service accounts are off by default);
 * - entity name: lower-case, every character outside [a-z0-9-_.] replaced by "-";
 * - groups: every group except the `excludeGroups` (by sanitised name); an excluded group
 *   is referenced by nobody (no memberOf, parent or children entry);
 * - a group's `spec.parent` is one of its emitted parents, and it is listed in the
 *   `spec.children` of each of them;
 * - `spec.profile.displayName` is the user's display name (or username) / the group name;
 *   `spec.profile.email` only when the user has one.
 *
 * The seed's literal names are pinned in `SEED_ENTITY_NAMES` so that a drift of the naming
 * rule shows up as a diff against hand-written expectations, not as a silent agreement.
 */
import type { Entity } from '@backstage/catalog-model';
import { DemoDirectory, SEED_EXCLUDED_GROUP, SEED_GROUPS, SEED_USERS } from '../../dev/demo-authentik';

/** The spec's sanitisation rule. */
export function specEntityName(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9\-_.]/g, '-');
}

/** Hand-written entity names of the seed's users and groups (checked against the rule). */
export const SEED_ENTITY_NAMES = {
  groups: {
    [SEED_GROUPS.breakGlass]: 'break-glass',
    [SEED_GROUPS.engineering]: 'engineering',
    [SEED_GROUPS.platform]: 'platform',
    [SEED_GROUPS.frontend]: 'frontend',
    [SEED_GROUPS.backend]: 'backend',
    [SEED_GROUPS.operations]: 'operations',
    [SEED_GROUPS.sre]: 'sre',
    [SEED_GROUPS.data]: 'data---analytics',
    [SEED_GROUPS.design]: 'design',
    [SEED_GROUPS.sales]: 'sales',
    [SEED_GROUPS.people]: 'people',
    [SEED_GROUPS.contractors]: 'contractors',
  } as Record<string, string>,
  users: {
    [SEED_USERS.admin]: 'akadmin',
    [SEED_USERS.jane]: 'jane.doe-example.com',
    [SEED_USERS.jose]: 'jos-.n--ez',
    [SEED_USERS.alice]: 'alice.nguyen',
    [SEED_USERS.bob]: 'bob.martin',
    [SEED_USERS.carol]: 'carol.smith',
    [SEED_USERS.dave]: 'dave.wilson',
    [SEED_USERS.erin]: 'erin.garcia',
    [SEED_USERS.frank]: 'frank.ocallaghan',
    [SEED_USERS.grace]: 'grace.hopper',
    [SEED_USERS.heidi]: 'heidi.schmidt',
    [SEED_USERS.ivan]: 'ivan.petrov',
    [SEED_USERS.judy]: 'judy.chen',
    [SEED_USERS.oscar]: 'oscar.lee',
    [SEED_USERS.peggy]: 'peggy.brown',
    [SEED_USERS.trent]: 'trent.adams',
    [SEED_USERS.walter]: 'walter.jansen',
    [SEED_USERS.zoe]: 'zoe.mueller',
    [SEED_USERS.quinn]: 'quinn.taylor',
    [SEED_USERS.pat]: 'pat.morgan',
    [SEED_USERS.rupert]: 'rupert.external',
  } as Record<string, string>,
} as const;

export interface ExpectedUser {
  name: string;
  pk: number;
  displayName: string;
  email?: string;
  memberOf: string[];
}

export interface ExpectedGroup {
  name: string;
  pk: string;
  displayName: string;
  /** Emitted parents: `spec.parent` must be one of them (none: no `spec.parent`). */
  parents: string[];
  children: string[];
  members: string[];
}

export interface ExpectedCatalog {
  users: Map<string, ExpectedUser>;
  groups: Map<string, ExpectedGroup>;
  /** Entity names that must not appear anywhere (excluded groups). */
  forbiddenGroupNames: string[];
}

const ELIGIBLE_TYPES = new Set(['internal', 'external']);

export function expectedCatalog(
  directory: DemoDirectory,
  options: { excludeGroups?: string[] } = {},
): ExpectedCatalog {
  const excluded = new Set(options.excludeGroups ?? [SEED_EXCLUDED_GROUP]);
  const groupName = new Map<string, string>(); // dashed pk → entity name (emitted only)
  const forbidden: string[] = [];
  for (const group of directory.groupRecords()) {
    const name = specEntityName(group.name);
    if (excluded.has(name)) forbidden.push(name);
    else groupName.set(group.pk, name);
  }

  const users = new Map<string, ExpectedUser>();
  for (const record of directory.userRecords()) {
    if (!record.is_active || !ELIGIBLE_TYPES.has(record.type)) continue;
    const user = directory.getUser(record.pk)!;
    const name = specEntityName(user.username);
    const memberOf = [...new Set(user.groups.flatMap(pk => groupName.get(pk) ?? []))].sort();
    users.set(name, {
      name,
      pk: user.pk,
      displayName: user.name.trim() || user.username,
      ...(user.email.trim() ? { email: user.email.trim() } : {}),
      memberOf,
    });
  }

  const groups = new Map<string, ExpectedGroup>();
  for (const record of directory.groupRecords()) {
    const name = groupName.get(record.pk);
    if (!name) continue;
    groups.set(name, {
      name,
      pk: record.pk,
      displayName: record.name,
      parents: record.parents.flatMap(p => groupName.get(p) ?? []).sort(),
      children: directory
        .childrenOf(record.pk)
        .flatMap(c => groupName.get(c) ?? [])
        .sort(),
      members: [...users.values()].filter(u => u.memberOf.includes(name)).map(u => u.name).sort(),
    });
  }
  return { users, groups, forbiddenGroupNames: forbidden };
}

function targets(entity: Entity, type: string, kind: 'user' | 'group'): string[] {
  return (entity.relations ?? [])
    .filter(r => r.type === type && r.targetRef.startsWith(`${kind}:`))
    .map(r => r.targetRef.replace(/^[a-z]+:default\//, ''))
    .sort();
}

/**
 * Differences between the catalog's User/Group entities and `expected` (empty when they
 * agree), relations included. Use with `waitFor(() => expect(diff).toEqual([]))`.
 */
export function catalogDifferences(entities: Entity[], expected: ExpectedCatalog): string[] {
  const problems: string[] = [];
  const users = new Map(entities.filter(e => e.kind === 'User').map(e => [e.metadata.name, e]));
  const groups = new Map(entities.filter(e => e.kind === 'Group').map(e => [e.metadata.name, e]));

  const sameSet = (what: string, actual: string[], wanted: string[]) => {
    const a = [...actual].sort();
    const w = [...wanted].sort();
    if (JSON.stringify(a) !== JSON.stringify(w)) {
      const missing = w.filter(x => !a.includes(x));
      const extra = a.filter(x => !w.includes(x));
      problems.push(`${what}: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
    }
  };

  sameSet('users', [...users.keys()], [...expected.users.keys()]);
  sameSet('groups', [...groups.keys()], [...expected.groups.keys()]);

  for (const want of expected.users.values()) {
    const entity = users.get(want.name);
    if (!entity) continue;
    const spec = entity.spec as { profile?: { displayName?: string; email?: string }; memberOf?: string[] };
    if (spec.profile?.displayName !== want.displayName) {
      problems.push(`user ${want.name}: displayName ${JSON.stringify(spec.profile?.displayName)} != ${JSON.stringify(want.displayName)}`);
    }
    if (spec.profile?.email !== want.email) {
      problems.push(`user ${want.name}: email ${JSON.stringify(spec.profile?.email)} != ${JSON.stringify(want.email)}`);
    }
    sameSet(`user ${want.name} spec.memberOf`, spec.memberOf ?? [], want.memberOf);
    sameSet(`user ${want.name} memberOf relations`, targets(entity, 'memberOf', 'group'), want.memberOf);
  }

  for (const want of expected.groups.values()) {
    const entity = groups.get(want.name);
    if (!entity) continue;
    const spec = entity.spec as { profile?: { displayName?: string }; parent?: string; children?: string[] };
    if (spec.profile?.displayName !== want.displayName) {
      problems.push(`group ${want.name}: displayName ${JSON.stringify(spec.profile?.displayName)} != ${JSON.stringify(want.displayName)}`);
    }
    if (want.parents.length === 0 ? spec.parent !== undefined : !want.parents.includes(spec.parent ?? '')) {
      problems.push(`group ${want.name}: spec.parent ${JSON.stringify(spec.parent)} not one of [${want.parents.join(', ')}]`);
    }
    sameSet(`group ${want.name} spec.children`, spec.children ?? [], want.children);
    sameSet(`group ${want.name} hasMember relations`, targets(entity, 'hasMember', 'user'), want.members);
    sameSet(`group ${want.name} childOf relations`, targets(entity, 'childOf', 'group'), want.parents);
    sameSet(`group ${want.name} parentOf relations`, targets(entity, 'parentOf', 'group'), want.children);
  }

  for (const name of expected.forbiddenGroupNames) {
    for (const entity of entities) {
      const text = JSON.stringify({ spec: entity.spec, relations: entity.relations });
      if (entity.metadata.name === name || text.includes(`"${name}"`) || text.includes(`group:default/${name}"`)) {
        problems.push(`excluded group ${name} referenced by ${entity.kind} ${entity.metadata.name}`);
      }
    }
  }
  return problems;
}
