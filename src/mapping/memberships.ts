import { Entity, UserEntity } from '@backstage/catalog-model';
import {
  ANNOTATION_NAME_TAKEN,
  ANNOTATION_USER_PK,
  ANNOTATION_USER_UID,
  ANNOTATION_USERNAME,
} from './types';

/** The annotations `defaultUserEntity` writes: nothing else is carried over. */
const DEFAULT_USER_ANNOTATIONS = [
  'backstage.io/managed-by-location',
  'backstage.io/managed-by-origin-location',
  ANNOTATION_USER_PK,
  ANNOTATION_USER_UID,
  ANNOTATION_USERNAME,
  ANNOTATION_NAME_TAKEN,
];

/**
 * A user's group memberships as entity names, after its groups were renamed or deleted:
 * each name the catalog entity lists is resolved through `resolve` (the group's name now,
 * or `null` when it is no longer emitted). `undefined` when a name cannot be resolved: the
 * user must then be read from authentik.
 */
export function renamedMemberships(
  entity: Entity,
  resolve: (name: string) => string | null | undefined,
): string[] | undefined {
  const memberOf = entity.spec?.memberOf;
  if (!Array.isArray(memberOf)) return undefined;
  const names = new Set<string>();
  for (const name of memberOf) {
    if (typeof name !== 'string') return undefined;
    const now = resolve(name);
    if (now === undefined) return undefined;
    if (now !== null) names.add(now);
  }
  return [...names].sort();
}

/**
 * The User entity a walk would emit for a user whose only change is `memberOf`, rebuilt
 * from the entity the catalog holds for it. Only valid with the default user transformer:
 * then every field besides `memberOf` comes from the authentik user, which has not changed.
 * `undefined` when `entity` is not shaped like one `defaultUserEntity` produced.
 */
export function withMemberships(entity: Entity, memberOf: string[]): UserEntity | undefined {
  const source = entity.metadata.annotations ?? {};
  const profile = entity.spec?.profile as Record<string, unknown> | undefined;
  if (entity.kind !== 'User' || !source[ANNOTATION_USER_PK] || typeof profile?.displayName !== 'string') {
    return undefined;
  }
  const annotations: Record<string, string> = {};
  for (const key of DEFAULT_USER_ANNOTATIONS) {
    if (typeof source[key] === 'string') annotations[key] = source[key];
  }
  const rebuilt: UserEntity['spec']['profile'] = { displayName: profile.displayName };
  if (typeof profile.email === 'string') rebuilt.email = profile.email;
  if (typeof profile.picture === 'string') rebuilt.picture = profile.picture;
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: entity.metadata.name, annotations },
    spec: { profile: rebuilt, memberOf },
  };
}
