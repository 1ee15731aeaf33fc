import { GroupEntity, UserEntity } from '@backstage/catalog-model';
import { AuthentikGroup, AuthentikUser, dashedGroupPk } from '../client/schemas';
import { toEntityName } from './names';
import {
  ANNOTATION_GROUP_PK,
  ANNOTATION_NAME_TAKEN,
  ANNOTATION_USER_PK,
  ANNOTATION_USER_UID,
  ANNOTATION_USERNAME,
  GroupTransformer,
  TransformerContext,
  UserTransformer,
} from './types';

/** The location annotations that identify the authentik instance an entity came from. */
export function locationAnnotations(baseUrl: string): Record<string, string> {
  const location = `url:${baseUrl}/`;
  return {
    'backstage.io/managed-by-location': location,
    'backstage.io/managed-by-origin-location': location,
  };
}

/**
 * The User entity of an authentik user, before customisation. `name` is the entity name
 * already made unique; `memberOf` the entity names of its groups.
 */
export function defaultUserEntity(
  user: AuthentikUser,
  name: string,
  memberOf: string[],
  context: TransformerContext,
): UserEntity {
  const displayName = user.name.trim() || user.username;
  const base = userBaseName(user);
  const email = user.email.trim();
  const location = locationOf(context.baseUrl);
  // Built as literals with properties added in place, not spread: a walk maps every user.
  const annotations: Record<string, string> = {
    'backstage.io/managed-by-location': location,
    'backstage.io/managed-by-origin-location': location,
    [ANNOTATION_USER_PK]: String(user.pk),
    [ANNOTATION_USER_UID]: user.uid,
    [ANNOTATION_USERNAME]: user.username,
  };
  if (name !== base) annotations[ANNOTATION_NAME_TAKEN] = base;
  const profile: UserEntity['spec']['profile'] = { displayName };
  if (email) profile.email = email;
  if (user.avatar && HTTP_URL.test(user.avatar)) profile.picture = user.avatar;
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, annotations },
    spec: { profile, memberOf },
  };
}

const HTTP_URL = /^https?:\/\//i;

let lastBaseUrl: string | undefined;
let lastLocation = '';

/** `url:<baseUrl>/`, one string for every user of an instance (not one per entity). */
function locationOf(baseUrl: string): string {
  if (baseUrl !== lastBaseUrl) {
    lastBaseUrl = baseUrl;
    lastLocation = `url:${baseUrl}/`;
  }
  return lastLocation;
}

/** The entity name a user gets unless an older user already holds it. */
export function userBaseName(user: AuthentikUser): string {
  return toEntityName(user.username, `user-${user.pk}`);
}

/** The Group entity of an authentik group, before customisation and relations. */
export function defaultGroupEntity(group: AuthentikGroup, name: string, context: TransformerContext): GroupEntity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: {
      name,
      annotations: {
        ...locationAnnotations(context.baseUrl),
        [ANNOTATION_GROUP_PK]: dashedGroupPk(group.pk),
      },
    },
    spec: {
      type: 'group',
      profile: { displayName: group.name.trim() || name },
      children: [],
    },
  };
}

/** The transformer used when none is configured: keeps the default entity. */
export const defaultUserTransformer: UserTransformer = entity => entity;

/** The transformer used when none is configured: keeps the default entity. */
export const defaultGroupTransformer: GroupTransformer = entity => entity;
