import { BodyForm, DemoAuthentik, seedDemoDirectory, startDemoAuthentik } from './demo-authentik';
import { DEMO_TOKEN, DEMO_WEBHOOK_SECRET } from './demoDefaults';

export interface SeededDemoOptions {
  port: number;
  /**
   * Where its webhooks go, e.g. http://localhost:7007/api/events/http/authentik; none when
   * unset (the module then learns of changes from the demo's event log only).
   */
  webhookUrl?: string;
  webhookSecret?: string;
  bodyForm: BodyForm;
}

/** The demo directory behind the dev token, sending webhooks like a configured authentik. */
export async function startSeededDemoAuthentik(options: SeededDemoOptions): Promise<DemoAuthentik> {
  const demo = await startDemoAuthentik({
    directory: seedDemoDirectory(),
    token: DEMO_TOKEN,
    port: options.port,
    webhook: options.webhookUrl
      ? { url: options.webhookUrl, secret: options.webhookSecret ?? DEMO_WEBHOOK_SECRET, bodyForm: options.bodyForm }
      : undefined,
  });
  const webhooks = options.webhookUrl
    ? `webhooks: ${options.bodyForm} body to ${options.webhookUrl}`
    : 'no webhooks: the module polls its event log';
  console.log(
    `Demo authentik at ${demo.url} (token ${DEMO_TOKEN}; ${webhooks}); ` +
      'change it with "npm run demo -- help"',
  );
  return demo;
}
