/**
 * Backstage catalog module for authentik: users and groups walked incrementally, and
 * authentik notification webhooks applied as deltas.
 *
 * @packageDocumentation
 */
import { createBackendFeatureLoader } from '@backstage/backend-plugin-api';
import { catalogModuleAuthentik } from './module';
import { eventsModuleAuthentikWebhooks } from './eventsModule';

/** Both modules of this package: `backend.add(import('…-module-authentik'))`. */
export default createBackendFeatureLoader({
  loader: () => [catalogModuleAuthentik, eventsModuleAuthentikWebhooks],
});

export { catalogModuleAuthentik, eventsModuleAuthentikWebhooks };
export { authentikTransformersExtensionPoint } from './extensions';
export type { AuthentikTransformersExtensionPoint } from './extensions';
export { defaultGroupEntity, defaultUserEntity, defaultGroupTransformer, defaultUserTransformer } from './mapping/defaultTransformers';
export type { GroupTransformer, UserTransformer, TransformerContext } from './mapping/types';
export {
  ANNOTATION_GROUP_PK,
  ANNOTATION_USER_PK,
  ANNOTATION_USER_UID,
  ANNOTATION_USERNAME,
} from './mapping/types';
export { sanitizeName } from './mapping/names';
export { AUTHENTIK_WEBHOOK_BODY_MAPPING, AUTHENTIK_WEBHOOK_HEADER_MAPPING } from './events/analyzeAuthentikWebhook';
export { authentikSignInResolvers } from './signIn/authentikSignInResolvers';
