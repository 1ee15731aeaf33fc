import { GroupEntity, UserEntity } from '@backstage/catalog-model';
import { AuthentikGroup, AuthentikUser } from '../client/schemas';

/** Annotations that carry authentik's identity on every entity this module emits. */
export const ANNOTATION_USER_PK = 'goauthentik.io/user-pk';
export const ANNOTATION_USER_UID = 'goauthentik.io/user-uid';
export const ANNOTATION_USERNAME = 'goauthentik.io/username';
export const ANNOTATION_GROUP_PK = 'goauthentik.io/group-pk';
/**
 * On a user whose name was taken by an older user: the contested name. Lets a webhook
 * delta give the name back when its holder goes, exactly as the next full walk would.
 */
export const ANNOTATION_NAME_TAKEN = 'goauthentik.io/name-taken';

/** The sync rules and identity of one authentik instance: everything mapping depends on. */
export interface MappingOptions {
  instanceId: string;
  baseUrl: string;
  excludeGroups: string[];
  includeServiceAccounts: boolean;
}

/** What transformers get besides the default entity and the raw authentik object. */
export interface TransformerContext {
  instanceId: string;
  baseUrl: string;
}

/**
 * Customises the User entity of an authentik user: return a changed entity, or
 * `undefined` to leave the user out of the catalog. Applied identically by the full walk
 * and by webhook deltas.
 */
export type UserTransformer = (
  entity: UserEntity,
  user: AuthentikUser,
  context: TransformerContext,
) => UserEntity | undefined | Promise<UserEntity | undefined>;

/**
 * Customises the Group entity of an authentik group: return a changed entity, or
 * `undefined` to skip the group (references to it are then cleaned like an excluded
 * group's). Receives the entity before `parent`/`children` are resolved.
 */
export type GroupTransformer = (
  entity: GroupEntity,
  group: AuthentikGroup,
  context: TransformerContext,
) => GroupEntity | undefined | Promise<GroupEntity | undefined>;

export interface Transformers {
  user?: UserTransformer;
  group?: GroupTransformer;
}
