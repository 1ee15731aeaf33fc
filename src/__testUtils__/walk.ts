import { Entity } from '@backstage/catalog-model';
import { mockServices } from '@backstage/backend-test-utils';
import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikInstanceConfig } from '../config';
import { AuthentikEntityProvider, AuthentikEntityProviderOptions } from '../incremental/AuthentikEntityProvider';
import { WalkCursor } from '../incremental/cursor';
import { Transformers } from '../mapping/types';

export const TEST_BASE_URL = 'https://authentik.test';

/** An instance config with the spec's defaults and a fast schedule. */
export function testInstanceConfig(overrides: Partial<AuthentikInstanceConfig> = {}): AuthentikInstanceConfig {
  return {
    id: 'default',
    baseUrl: TEST_BASE_URL,
    token: 'test-token',
    excludeGroups: [],
    includeServiceAccounts: false,
    schedule: {
      frequency: { kind: 'rest', rest: { minutes: 30 } },
      timeout: { minutes: 3 },
      initialDelay: { seconds: 0 },
      scope: 'global',
    },
    webhook: { header: 'authorization', dangerouslyAllowUnauthenticated: false, coalesceWindow: { milliseconds: 10 } },
    events: { mode: 'webhook', pollInterval: { seconds: 5 }, maxOutage: { hours: 24 } },
    incremental: {
      pageSize: 100,
      concurrency: 3,
      burstLength: { seconds: 10 },
      burstInterval: { seconds: 5 },
      backoff: [{ seconds: 1 }],
      rejectRemovalsAbovePercentage: 25,
      rejectEmptySourceCollections: true,
    },
    ...overrides,
  };
}

/** Runs one complete walk the way the incremental engine does and returns what it emitted. */
export async function walkAll(
  api: AuthentikApi,
  config: AuthentikInstanceConfig = testInstanceConfig(),
  transformers?: Transformers,
  options: Partial<AuthentikEntityProviderOptions> = {},
): Promise<Entity[]> {
  const provider = new AuthentikEntityProvider({ config, api, logger: mockServices.logger.mock(), transformers, ...options });
  const entities: Entity[] = [];
  await provider.around(async context => {
    let cursor: WalkCursor | undefined;
    for (;;) {
      const result = await provider.next(context, cursor);
      entities.push(...(result.entities ?? []).map(d => d.entity));
      if (result.done) return;
      cursor = result.cursor;
    }
  });
  return entities;
}
