import { DemoDirectory, SEED_GROUPS, SEED_USERS } from '../../dev/demo-authentik';

/**
 * `count` varied changes to a (seeded) demo directory, as an admin would make them during
 * an outage: new users and groups, memberships, renames, deactivations, deletions. Returns
 * how many changes (events) were made. `tag` keeps names unique across calls.
 */
export function makeDirectoryChanges(directory: DemoDirectory, count: number, tag: string): number {
  const engineering = directory.findGroupByName(SEED_GROUPS.engineering)!.pk;
  const bob = directory.findUserByUsername(SEED_USERS.bob)!.pk;
  let made = 0;
  let group: string | undefined;
  for (let i = 0; made < count; i++) {
    const username = `${tag}-user-${i}`;
    const user = directory.addUser({ username, name: `${tag} User ${i}`, email: `${username}@demo.example` }).pk;
    made++;
    const steps: Array<() => unknown> = [
      () => directory.addMember(engineering, user),
      () => directory.updateUser(user, { name: `${tag} Renamed ${i}` }),
      () => (group = directory.addGroup({ name: `${tag}-group-${i}`, users: [user] }).pk),
      () => group && directory.renameGroup(group, `${tag}-team-${i}`),
      () => directory.updateUser(bob, { name: `Bob ${tag} ${i}` }),
      () => i % 3 === 2 && directory.updateUser(user, { is_active: false }),
      () => i % 4 === 3 && directory.deleteUser(user),
      () => i % 5 === 4 && group && directory.deleteGroup(group),
    ];
    for (const step of steps) {
      if (made >= count) break;
      const before = directory.version;
      step();
      made += directory.version - before;
    }
  }
  return made;
}
