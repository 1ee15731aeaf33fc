/**
 * One backend replica for `test/replicas.integration.test.ts`: the same features as the dev
 * backend (catalog, incremental ingestion, events backend, this module), configured
 * ONLY by the `--config <file>` arguments the test passes (a temp YAML per replica, see
 * `replicaConfig.ts`). Run with tsx:
 *
 *   node --import tsx test/replicas/replicaBackend.ts --config /tmp/replica-a.yaml
 *
 * Logs go to stdout (JSON when NODE_ENV=production, which the test sets: one record a line).
 * Prints `REPLICA_READY <port>` once the backend has started.
 */
import { createBackend } from '@backstage/backend-defaults';

async function main() {
  if (!process.argv.includes('--config')) {
    throw new Error('replicaBackend: pass the replica config with --config <file>');
  }
  const backend = createBackend();
  backend.add(import('@backstage/plugin-catalog-backend'));
  backend.add(import('@backstage/plugin-catalog-backend-module-incremental-ingestion'));
  backend.add(import('@backstage/plugin-events-backend'));
  backend.add(import('../../src'));
  await backend.start();
  // eslint-disable-next-line no-console
  console.log(`REPLICA_READY ${process.env.REPLICA_PORT ?? ''}`.trim());
}

main().catch(error => {
  // eslint-disable-next-line no-console
  console.error('REPLICA_FAILED', error);
  process.exit(1);
});
