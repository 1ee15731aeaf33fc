import { z } from 'zod';

/**
 * Where a full walk stands, stored by the incremental engine between bursts (and
 * replicas) as JSON. `walkId` ties in-memory state (group index, name claims) to one walk.
 */
export const walkCursorSchema = z.discriminatedUnion('phase', [
  /** Waiting for the next cron occurrence before walking. */
  z.object({ phase: z.literal('scheduled'), walkId: z.string(), startAt: z.number() }),
  /** About to read and emit every group. */
  z.object({
    phase: z.literal('groups'),
    walkId: z.string(),
    startedAt: z.number(),
    /** Groups already emitted (they go out in batches the engine can insert). */
    offset: z.number().int().nonnegative().optional(),
    /** Emitting the groups again at the start of a burst (see `rewindLastBatch`). */
    again: z.boolean().optional(),
  }),
  /** Walking users, page by page. */
  z.object({
    phase: z.literal('users'),
    walkId: z.string(),
    startedAt: z.number(),
    page: z.number().int().positive(),
    afterPk: z.number().int().nonnegative(),
    groups: z.number().int().nonnegative(),
    users: z.number().int().nonnegative(),
    /** First pk of the previous window's last page, as read then. */
    anchorFirstPk: z.number().int().optional(),
    /** Where the previous window started, to read it again if the list shifted under it. */
    previousWindow: z
      .object({
        page: z.number().int().positive(),
        afterPk: z.number().int().nonnegative(),
        /** Users emitted before that window. */
        users: z.number().int().nonnegative().optional(),
      })
      .optional(),
  }),
]);

export type WalkCursor = z.infer<typeof walkCursorSchema>;
