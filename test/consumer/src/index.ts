// packages/backend/src/index.ts
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();
backend.add(import('@backstage/plugin-catalog-backend'));
// The engine this module's provider runs on:
backend.add(import('@backstage/plugin-catalog-backend-module-incremental-ingestion'));
// The HTTP endpoint authentik's webhooks are POSTed to (/api/events/http/authentik):
backend.add(import('@backstage/plugin-events-backend'));
// This module (its catalog part and its events part):
backend.add(import('@backstage-community/plugin-catalog-backend-module-authentik'));
backend.start();
