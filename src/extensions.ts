import { createExtensionPoint } from '@backstage/backend-plugin-api';
import { GroupTransformer, UserTransformer } from './mapping/types';

/**
 * Customisation of the authentik module, from another module of the catalog plugin.
 * Each setter may be called once per instance; without `instanceId` it applies to every
 * configured instance.
 */
export interface AuthentikTransformersExtensionPoint {
  setUserTransformer(transformer: UserTransformer, options?: { instanceId?: string }): void;
  setGroupTransformer(transformer: GroupTransformer, options?: { instanceId?: string }): void;
}

export const authentikTransformersExtensionPoint = createExtensionPoint<AuthentikTransformersExtensionPoint>({
  id: 'catalog.authentik.transformers',
});

const ALL_INSTANCES = '*';

/** Holds what was set through the extension point. */
export class TransformerRegistry implements AuthentikTransformersExtensionPoint {
  private readonly users = new Map<string, UserTransformer>();
  private readonly groups = new Map<string, GroupTransformer>();

  setUserTransformer(transformer: UserTransformer, options?: { instanceId?: string }): void {
    setOnce(this.users, options?.instanceId ?? ALL_INSTANCES, transformer, 'user');
  }

  setGroupTransformer(transformer: GroupTransformer, options?: { instanceId?: string }): void {
    setOnce(this.groups, options?.instanceId ?? ALL_INSTANCES, transformer, 'group');
  }

  forInstance(instanceId: string): { user?: UserTransformer; group?: GroupTransformer } {
    return {
      user: this.users.get(instanceId) ?? this.users.get(ALL_INSTANCES),
      group: this.groups.get(instanceId) ?? this.groups.get(ALL_INSTANCES),
    };
  }
}

function setOnce<T>(map: Map<string, T>, key: string, value: T, kind: string): void {
  if (map.has(key)) {
    const scope = key === ALL_INSTANCES ? 'all instances' : `instance "${key}"`;
    throw new Error(`The authentik ${kind} transformer for ${scope} has already been set`);
  }
  map.set(key, value);
}
