import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import { eventsExtensionPoint } from '@backstage/plugin-events-node/alpha';
import { readAuthentikConfigs } from './config';
import { createAuthentikJsonBodyParser } from './events/authentikJsonBodyParser';
import { createAuthentikWebhookValidator } from './events/createAuthentikWebhookValidator';
import { webhookTopic } from './events/topics';
import { createAuthentikMetrics } from './metrics';
import { LogRateLimiter } from './util/LogRateLimiter';

/**
 * The events side: `POST /api/events/http/authentik` (one topic per instance), guarded by
 * the shared secret. Loaded together with the catalog module by the package's default export.
 */
export const eventsModuleAuthentikWebhooks = createBackendModule({
  pluginId: 'events',
  moduleId: 'authentik-webhooks',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        events: eventsExtensionPoint,
        metrics: metricsServiceRef,
      },
      async init({ config, logger, events, metrics }) {
        const instances = readAuthentikConfigs(config);
        if (instances.length > 0) {
          events.addHttpPostBodyParser(createAuthentikJsonBodyParser(new Set(instances.map(i => webhookTopic(i.id)))));
        }
        for (const instance of instances) {
          const { webhook } = instance;
          const topic = webhookTopic(instance.id);
          const instanceMetrics = createAuthentikMetrics(metrics, instance.id);
          // Anyone who reaches the backend can be rejected: one warning a minute, the rest counted.
          const rejections = new LogRateLimiter(60_000);
          if (webhook.dangerouslyAllowUnauthenticated) {
            logger.warn(
              `authentik webhooks on /api/events/http/${topic} accept deliveries WITHOUT authentication ` +
                '(webhook.dangerouslyAllowUnauthenticated); anyone who reaches the backend can trigger re-reads',
            );
          } else if (!webhook.secret) {
            logger.info(
              `authentik webhooks on /api/events/http/${topic} are disabled until webhook.secret is set; full walks still run`,
            );
          }
          events.addHttpPostIngress({
            topic,
            validator: createAuthentikWebhookValidator({
              secret: webhook.secret,
              header: webhook.header,
              dangerouslyAllowUnauthenticated: webhook.dangerouslyAllowUnauthenticated,
              onReject: (status, reason) => {
                instanceMetrics.webhookRejected(status);
                rejections.run(suppressed =>
                  logger.warn(
                    `Rejected an authentik webhook on ${topic} (${status}): ${reason}` +
                      (suppressed ? ` (${suppressed} more rejected since the last warning, counted in catalog_authentik.webhooks)` : ''),
                  ),
                );
              },
            }),
          });
        }
      },
    });
  },
});
