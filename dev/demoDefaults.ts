/** Well-known values of the dev setup; not secrets (the demo only listens on localhost). */
export const DEMO_AUTHENTIK_PORT = 9100;
export const DEMO_TOKEN = 'demo-authentik-api-token';
export const DEMO_WEBHOOK_SECRET = 'demo-webhook-secret';
export const DEV_CATALOG_TOKEN = 'dev-catalog-token';
