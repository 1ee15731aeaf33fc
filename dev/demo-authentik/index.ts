/** The bundled demo authentik: an in-memory directory served over authentik's REST API. */
export { DemoDirectory, DemoDirectoryError } from './directory';
export type { DemoDirectoryOptions, GroupPatch, NewGroup, NewUser, UserPatch } from './directory';
export type { ChangeDescription, DemoGroup, DemoUser, GroupChange, UserChange, UserType } from './types';
export { SEED_EXCLUDED_GROUP, SEED_GROUPS, SEED_INACTIVE_USERS, SEED_USERS, seedDemoDirectory } from './seed';
export { generateSyntheticDirectory } from './synthetic';
export type { SyntheticOptions } from './synthetic';
export { startDemoAuthentik } from './server';
export type { DemoAuthentik, DemoAuthentikOptions } from './server';
export type { ApiShape } from './serializers';
export { WebhookDispatcher, pythonRepr, sendTestNotification } from './webhooks';
export type { BodyForm, WebhookDeliveryStats, WebhookOptions } from './webhooks';
export { DemoEventLog } from './event-log';
