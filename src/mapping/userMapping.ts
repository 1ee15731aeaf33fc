import { UserEntity } from '@backstage/catalog-model';
import { AuthentikUser } from '../client/schemas';
import { defaultUserEntity } from './defaultTransformers';
import { GroupMemberships } from './groupIndex';
import { MappingOptions, TransformerContext, UserTransformer } from './types';

const SERVICE_ACCOUNT_TYPES = new Set(['service_account', 'internal_service_account']);

/** The spec's rule: active users, and service accounts only when asked for. */
export function isEligibleUser(user: AuthentikUser, options: Pick<MappingOptions, 'includeServiceAccounts'>): boolean {
  if (!user.is_active) return false;
  return options.includeServiceAccounts || !SERVICE_ACCOUNT_TYPES.has(user.type);
}

/** Server-side filter equivalent to `isEligibleUser`'s type rule (undefined: any type). */
export function eligibleUserTypes(options: Pick<MappingOptions, 'includeServiceAccounts'>): string[] | undefined {
  return options.includeServiceAccounts ? undefined : ['internal', 'external'];
}

export { userBaseName } from './defaultTransformers';

/** The suffix that tells a user apart when its base name is taken. */
export function userNameSuffixes(user: AuthentikUser): string[] {
  return [String(user.pk), `u${user.pk}`];
}

const contexts = new WeakMap<MappingOptions, TransformerContext>();

/** The transformer context of `options`, one object for all the users mapped with them. */
function contextOf(options: MappingOptions): TransformerContext {
  let context = contexts.get(options);
  if (!context || context.instanceId !== options.instanceId || context.baseUrl !== options.baseUrl) {
    context = { instanceId: options.instanceId, baseUrl: options.baseUrl };
    contexts.set(options, context);
  }
  return context;
}

/**
 * The User entity of an eligible user (or `undefined`): `name` already made unique,
 * memberships resolved through the group index (excluded groups dropped), then the
 * transformer applied.
 */
export async function mapUser(
  user: AuthentikUser,
  name: string,
  groups: GroupMemberships,
  options: MappingOptions,
  transform?: UserTransformer,
): Promise<UserEntity | undefined> {
  const entity = mapUserByDefault(user, name, groups, options);
  return entity && transform ? transform(entity, user, contextOf(options)) : entity;
}

/**
 * `mapUser` without a transformer, synchronously: a walk maps 100,000 users, and a
 * promise and a microtask turn for each is CPU the walk waits for.
 */
export function mapUserByDefault(
  user: AuthentikUser,
  name: string,
  groups: GroupMemberships,
  options: MappingOptions,
): UserEntity | undefined {
  if (!isEligibleUser(user, options)) {
    return undefined;
  }
  return defaultUserEntity(user, name, groups.memberOf(user.groups), contextOf(options));
}
