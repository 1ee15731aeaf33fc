/**
 * The dev backend (`npm start`): catalog, incremental ingestion, events and this module,
 * on port 7007 with an in-memory database, fed by the bundled demo authentik unless
 * AUTHENTIK_URL and AUTHENTIK_TOKEN point at a real one. `DEMO_WEBHOOKS=off` runs the demo
 * without webhooks (no secret is configured, so the module follows the event log: poll mode).
 */
import { resolve } from 'node:path';
import { createBackend } from '@backstage/backend-defaults';
import { DEMO_AUTHENTIK_PORT, DEMO_TOKEN, DEMO_WEBHOOK_SECRET } from './demoDefaults';
import { startSeededDemoAuthentik } from './seededDemoAuthentik';

async function main() {
  if (!process.env.AUTHENTIK_URL || !process.env.AUTHENTIK_TOKEN) {
    const webhooks = process.env.DEMO_WEBHOOKS !== 'off';
    const demo = await startSeededDemoAuthentik({
      port: Number(process.env.DEMO_AUTHENTIK_PORT ?? DEMO_AUTHENTIK_PORT),
      webhookUrl: webhooks ? 'http://localhost:7007/api/events/http/authentik' : undefined,
      bodyForm: process.env.DEMO_WEBHOOK_BODY === 'default' ? 'default' : 'mapping',
    });
    process.env.AUTHENTIK_URL = demo.url;
    process.env.AUTHENTIK_TOKEN = DEMO_TOKEN;
    if (webhooks) process.env.AUTHENTIK_WEBHOOK_SECRET ??= DEMO_WEBHOOK_SECRET;
  }
  process.env.AUTHENTIK_WEBHOOK_SECRET ??= '';

  // Our config first, so that `--config` files given on the command line override it.
  process.argv.splice(2, 0, '--config', resolve(__dirname, 'app-config.yaml'));

  const backend = createBackend();
  backend.add(import('@backstage/plugin-catalog-backend'));
  backend.add(import('@backstage/plugin-catalog-backend-module-incremental-ingestion'));
  backend.add(import('@backstage/plugin-events-backend'));
  backend.add(import('../src'));
  await backend.start();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
