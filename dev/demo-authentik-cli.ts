/**
 * `npm run demo:authentik -- --port 9100 --webhook-url http://localhost:7007/api/events/http/authentik`:
 * the demo authentik on its own, for a Backstage backend that is not `npm start` (your own
 * host backend, the consumer test). Runs until interrupted.
 */
import { parseArgs } from 'node:util';
import { DEMO_AUTHENTIK_PORT, DEMO_WEBHOOK_SECRET } from './demoDefaults';
import { startSeededDemoAuthentik } from './seededDemoAuthentik';

const USAGE = `Usage: npm run demo:authentik -- [options]

  --port <n>              port to listen on (default ${DEMO_AUTHENTIK_PORT})
  --webhook-url <url>     where its webhooks go (default http://localhost:7007/api/events/http/authentik)
  --webhook-secret <s>    sent as "Authorization: Bearer <s>" (default ${DEMO_WEBHOOK_SECRET})
  --body mapping|default  the module's body mapping (default) or authentik's default body
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: String(DEMO_AUTHENTIK_PORT) },
      'webhook-url': { type: 'string', default: 'http://localhost:7007/api/events/http/authentik' },
      'webhook-secret': { type: 'string', default: DEMO_WEBHOOK_SECRET },
      body: { type: 'string', default: 'mapping' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  if (values.body !== 'mapping' && values.body !== 'default') throw new Error(`--body: mapping or default, not ${values.body}`);

  const demo = await startSeededDemoAuthentik({
    port,
    webhookUrl: values['webhook-url'],
    webhookSecret: values['webhook-secret'],
    bodyForm: values.body,
  });
  const stop = () => void demo.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(error => {
  console.error(error instanceof Error ? error.message : error);
  console.error(USAGE);
  process.exit(1);
});
