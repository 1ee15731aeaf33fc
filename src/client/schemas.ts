import { z } from 'zod/v4';

/**
 * What this module reads from authentik's REST API, validated on every response.
 * Unknown fields are tolerated (and dropped); missing or mistyped fields we rely on fail
 * with a message that names them. `src/client/schemas.openapi.test.ts` checks these
 * shapes against authentik's published OpenAPI types so that they cannot drift.
 */

export const paginationSchema = z.object({
  next: z.number().int().nonnegative(),
  previous: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
  current: z.number().int().positive(),
  total_pages: z.number().int().nonnegative(),
  start_index: z.number().int().nonnegative(),
  end_index: z.number().int().nonnegative(),
});

export const userTypeSchema = z.string();

export const userSchema = z.object({
  pk: z.number().int(),
  username: z.string(),
  name: z.string().nullish().transform(v => v ?? ''),
  email: z.string().nullish().transform(v => v ?? ''),
  is_active: z.boolean(),
  type: userTypeSchema.default('internal'),
  uid: z.string(),
  avatar: z.string().nullish(),
  path: z.string().nullish(),
  /** Group UUIDs. Present whether or not `include_groups` is set. */
  groups: z.array(z.string()).default([]),
  /**
   * ISO-8601 time of the user's last save (authentik 2025.8+; absent before). Only used to
   * check that a `last_updated__gt` filter was applied, never as a reason to skip a user.
   */
  last_updated: z
    .string()
    .refine(v => !Number.isNaN(Date.parse(v)), 'expected an ISO-8601 timestamp')
    .nullish(),
});

export const groupSchema = z.object({
  /** Dashed UUID. */
  pk: z.string().min(1),
  num_pk: z.number().int().nullish(),
  name: z.string(),
  /** authentik ≤ 2025.10: a single parent. */
  parent: z.string().nullish(),
  /** authentik ≥ 2025.12: any number of parents. */
  parents: z.array(z.string()).nullish(),
  /** Member user pks. */
  users: z.array(z.number().int()).nullish(),
});

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    pagination: paginationSchema,
    results: z.array(item),
  });
}

export const userPageSchema = pageSchema(userSchema);
export const groupPageSchema = pageSchema(groupSchema);

export type AuthentikUser = z.infer<typeof userSchema>;
export type AuthentikGroup = z.infer<typeof groupSchema>;
export type AuthentikPagination = z.infer<typeof paginationSchema>;
export type AuthentikPage<T> = { pagination: AuthentikPagination; results: T[] };

/** Group pks appear dashed in the API and undashed in event contexts: compare this form. */
export function normalizeGroupPk(pk: string): string {
  return pk.replace(/-/g, '').toLowerCase();
}

/** The parents of a group in either API shape, normalized. */
export function parentPksOf(group: AuthentikGroup): string[] {
  const raw = group.parents ?? (group.parent ? [group.parent] : []);
  return [...new Set(raw.map(normalizeGroupPk))];
}

/** authentik's URLs, filters and annotations use dashed UUIDs; event contexts undashed. */
export function dashedGroupPk(pk: string): string {
  const hex = normalizeGroupPk(pk);
  if (!/^[0-9a-f]{32}$/.test(hex)) {
    throw new Error(`"${pk}" is not a group UUID`);
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
