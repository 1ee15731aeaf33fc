import { z } from 'zod';
import { DemoDirectory, DemoDirectoryError } from './directory';
import { HttpError } from './http';
import { Serializers } from './serializers';
import { JsonValue, USER_TYPES } from './types';

/**
 * Mutations for the dev CLI and tests, under `/demo/…` (not part of authentik's API).
 * Each one goes through the directory, so it shows in listings at once and fires the
 * change listeners (webhooks).
 */

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(jsonValue), z.record(jsonValue)]),
);
const attributes = z.record(jsonValue);
const dateTime = z
  .string()
  .refine(v => !Number.isNaN(Date.parse(v)), 'Enter a valid date/time.')
  .transform(v => Date.parse(v));

const newUser = z
  .object({
    pk: z.number().int().positive().optional(),
    username: z.string().min(1),
    name: z.string().optional(),
    email: z.string().optional(),
    is_active: z.boolean().optional(),
    type: z.enum(USER_TYPES).optional(),
    path: z.string().optional(),
    avatar: z.string().optional(),
    attributes: attributes.optional(),
    groups: z.array(z.string()).optional(),
  })
  .strict();

const userPatch = z
  .object({
    username: z.string().min(1).optional(),
    name: z.string().optional(),
    email: z.string().optional(),
    is_active: z.boolean().optional(),
    type: z.enum(USER_TYPES).optional(),
    path: z.string().optional(),
    avatar: z.string().optional(),
    attributes: attributes.optional(),
    last_login: dateTime.nullable().optional(),
  })
  .strict();

const newGroup = z
  .object({
    pk: z.string().optional(),
    name: z.string().min(1),
    parents: z.array(z.string()).optional(),
    is_superuser: z.boolean().optional(),
    attributes: attributes.optional(),
    users: z.array(z.number().int()).optional(),
  })
  .strict();

const groupPatch = z
  .object({
    name: z.string().min(1).optional(),
    parents: z.array(z.string()).optional(),
    is_superuser: z.boolean().optional(),
    attributes: attributes.optional(),
  })
  .strict();

const memberBody = z.object({ pk: z.number().int() });
const userGroupsBody = z.object({ groups: z.array(z.string()) });

export interface DemoResponse {
  status: number;
  body?: unknown;
}

const FULL_USER = { groups: true, roles: true };
const FULL_GROUP = { users: true, children: true, parents: true, inheritedRoles: false };

export class DemoMutations {
  constructor(
    private readonly directory: DemoDirectory,
    private readonly serializers: Serializers,
  ) {}

  /** `path` is relative to `/demo`, without a trailing slash. */
  handle(method: string, path: string, body: unknown): DemoResponse {
    try {
      return this.route(method, path.split('/').filter(Boolean), body);
    } catch (error) {
      if (error instanceof DemoDirectoryError) {
        if (error.kind === 'not_found') throw HttpError.detail(404, error.message);
        throw HttpError.field(error.field, error.message);
      }
      throw error;
    }
  }

  private route(method: string, segments: string[], body: unknown): DemoResponse {
    const [collection, id, action] = segments;
    const key = `${method} ${collection ?? ''}${id === undefined ? '' : '/:id'}${action === undefined ? '' : `/${action}`}`;
    switch (key) {
      case 'POST users': {
        const pk = this.directory.addUser(parse(newUser, body)).pk;
        return this.userResponse(201, pk);
      }
      case 'PATCH users/:id': {
        const pk = userPk(id);
        this.directory.updateUser(pk, parse(userPatch, body));
        return this.userResponse(200, pk);
      }
      case 'DELETE users/:id':
        this.directory.deleteUser(userPk(id));
        return { status: 204 };
      case 'PUT users/:id/groups': {
        const pk = userPk(id);
        this.directory.setUserGroups(pk, parse(userGroupsBody, body).groups);
        return this.userResponse(200, pk);
      }
      case 'POST groups': {
        const pk = this.directory.addGroup(parse(newGroup, body)).pk;
        return this.groupResponse(201, pk);
      }
      case 'PATCH groups/:id':
        this.directory.updateGroup(id, parse(groupPatch, body));
        return this.groupResponse(200, id);
      case 'DELETE groups/:id':
        this.directory.deleteGroup(id);
        return { status: 204 };
      case 'POST groups/:id/add_user':
        this.directory.addMember(id, parse(memberBody, body).pk);
        return { status: 204 };
      case 'POST groups/:id/remove_user':
        this.directory.removeMember(id, parse(memberBody, body).pk);
        return { status: 204 };
      default:
        throw HttpError.detail(404, 'Not found.');
    }
  }

  private userResponse(status: number, pk: number): DemoResponse {
    const user = this.directory.userRecord(pk);
    return { status, body: user && this.serializers.user(user, FULL_USER) };
  }

  private groupResponse(status: number, pk: string): DemoResponse {
    const group = this.directory.groupRecord(pk);
    return { status, body: group && this.serializers.group(group, FULL_GROUP) };
  }
}

function userPk(raw: string): number {
  if (!/^\d+$/.test(raw)) throw HttpError.detail(404, 'No User matches the given query.');
  return Number(raw);
}

/** Validates a body, answering 400 with DRF-style field errors. */
function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const errors: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const field = issue.path.length > 0 ? issue.path.join('.') : 'non_field_errors';
    (errors[field] ??= []).push(issue.message);
  }
  throw new HttpError(400, errors);
}
