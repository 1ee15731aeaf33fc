/**
 * The dev backend (`npm start`): catalog, incremental ingestion, events and this module,
 * on port 7007 with an in-memory database, fed by the bundled demo authentik unless
 * AUTHENTIK_URL and AUTHENTIK_TOKEN point at a real one. `DEMO_WEBHOOKS=off` runs the demo
 * without webhooks (no secret is configured, so the module follows the event log: poll mode).
 */
import { resolve } from 'node:path';
import { createBackend } from '@backstage/backend-defaults';
import { startDemoAuthentik, seedDemoDirectory } from './demo-authentik';
import { DEMO_AUTHENTIK_PORT, DEMO_TOKEN, DEMO_WEBHOOK_SECRET } from './demoDefaults';

async function main() {
  if (!process.env.AUTHENTIK_URL || !process.env.AUTHENTIK_TOKEN) {
    const bodyForm = process.env.DEMO_WEBHOOK_BODY === 'default' ? 'default' : 'mapping';
    const webhooks = process.env.DEMO_WEBHOOKS !== 'off';
    const demo = await startDemoAuthentik({
      directory: seedDemoDirectory(),
      token: DEMO_TOKEN,
      port: Number(process.env.DEMO_AUTHENTIK_PORT ?? DEMO_AUTHENTIK_PORT),
      webhook: webhooks
        ? { url: 'http://localhost:7007/api/events/http/authentik', secret: DEMO_WEBHOOK_SECRET, bodyForm }
        : undefined,
    });
    process.env.AUTHENTIK_URL = demo.url;
    process.env.AUTHENTIK_TOKEN = DEMO_TOKEN;
    if (webhooks) process.env.AUTHENTIK_WEBHOOK_SECRET ??= DEMO_WEBHOOK_SECRET;
    console.log(
      `Demo authentik at ${demo.url} (${webhooks ? `webhooks: ${bodyForm} body` : 'no webhooks: the module polls its event log'}); ` +
        'change it with "npm run demo -- help"',
    );
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
