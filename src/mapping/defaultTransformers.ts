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
  // Every object is made empty and filled, not written as a literal: V8 keeps statistics per
  // object literal, and moves one whose objects it once found all alive at a scavenge (a
  // batch of entities waits for the engine) to "pretenured": from then on, for the life of
  // the process, its objects are made in the old generation, which only a full GC empties.
  // Objects made empty carry no such statistics. (Nor spread: a walk maps every user.)
  const annotations: Record<string, string> = {};
  annotations['backstage.io/managed-by-location'] = location;
  annotations['backstage.io/managed-by-origin-location'] = location;
  annotations[ANNOTATION_USER_PK] = String(user.pk);
  annotations[ANNOTATION_USER_UID] = user.uid;
  annotations[ANNOTATION_USERNAME] = user.username;
  if (name !== base) annotations[ANNOTATION_NAME_TAKEN] = base;
  const profile: UserEntity['spec']['profile'] = {};
  profile.displayName = displayName;
  if (email) profile.email = email;
  if (user.avatar && HTTP_URL.test(user.avatar)) profile.picture = user.avatar;
  const metadata = {} as UserEntity['metadata'];
  metadata.name = name;
  metadata.annotations = annotations;
  const spec = {} as UserEntity['spec'];
  spec.profile = profile;
  spec.memberOf = memberOf;
  const entity = {} as UserEntity;
  entity.apiVersion = 'backstage.io/v1alpha1';
  entity.kind = 'User';
  entity.metadata = metadata;
  entity.spec = spec;
  return entity;
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
