import { z } from 'zod/v4';
import { pageSchema } from './schemas';

/**
 * One entry of authentik's event log (`GET /api/v3/events/events/`), as far as the
 * event-log follower reads it. `context` stays loose: which model changed is judged by
 * the same analysis as a webhook's `model` (see `analyzeAuthentikLogEvent`).
 */
export const logEventSchema = z.object({
  /** UUID, dashed in the API. */
  pk: z.string().min(1),
  action: z.string(),
  /** ISO-8601 with a time zone. */
  created: z.string().refine(v => !Number.isNaN(Date.parse(v)), 'expected an ISO-8601 timestamp'),
  context: z.record(z.string(), z.unknown()).nullish(),
});

export const logEventPageSchema = pageSchema(logEventSchema);

export type AuthentikLogEvent = z.infer<typeof logEventSchema>;
