import { z } from 'zod';
import { parseLeadingPythonDict, PythonLiteralError } from './pythonLiteral';

/**
 * Pure analysis of the JSON body of an authentik notification webhook: which synced object
 * (user or group) changed and how, or why the body is ignored or rejected. No I/O.
 *
 * Two body forms are understood:
 * - the recommended body mapping ({@link AUTHENTIK_WEBHOOK_BODY_MAPPING}), `{"version": 1, …}`;
 * - authentik's default body, `{"body": "<action>: <context as a Python dict repr>", …}`.
 */

export type AuthentikModelName = 'user' | 'group';
export type AuthentikModelAction = 'model_created' | 'model_updated' | 'model_deleted';

export interface AuthentikChangeHint {
  model: AuthentikModelName;
  /** user: the integer pk as a decimal string; group: the UUID lower-cased WITHOUT dashes */
  pk: string;
  action: AuthentikModelAction;
  /** authentik's event pk when the body carries it (recommended mapping), for de-duplication */
  eventId?: string;
  /** event creation time (ISO-8601) when known */
  created?: string;
  /** which body form it came from (`log`: an entry of authentik's event log) */
  form: 'mapping' | 'default' | 'log';
  /** the object's name when the event was recorded (a user's display name, a group's name) */
  name?: string;
}

/** Epoch ms of when authentik recorded the hint's event, when the hint carries it. */
export function hintRecordedAt(hint: Pick<AuthentikChangeHint, 'created'>): number | undefined {
  const ms = hint.created === undefined ? Number.NaN : Date.parse(hint.created);
  return Number.isNaN(ms) ? undefined : ms;
}

export type AuthentikWebhookAnalysis =
  | { result: 'ok'; hint: AuthentikChangeHint }
  /** Well-formed but not for us: other model/app/action, test notification. */
  | { result: 'ignored'; reason: string }
  /** Malformed: the HTTP ingress answers 400 with `reason`. */
  | { result: 'invalid'; reason: string };

/**
 * The recommended authentik webhook **body** mapping (a property mapping expression; authentik
 * runs it as a function body with `notification` in scope). Its output is what
 * {@link analyzeAuthentikWebhook} reads as the "mapping" form. A test notification has no
 * event and is sent as `{"version": 1, "test": true, "body": …}`.
 */
export const AUTHENTIK_WEBHOOK_BODY_MAPPING = `# Backstage catalog (authentik module): webhook body mapping, version 1
event = notification.event
if event is None:
    return {"version": 1, "test": True, "body": notification.body}
context = event.context if isinstance(event.context, dict) else {}
model = context.get("model")
if isinstance(model, dict):
    model = {
        "pk": model.get("pk"),
        "app": model.get("app"),
        "name": model.get("name"),
        "model_name": model.get("model_name"),
    }
else:
    model = None
return {
    "version": 1,
    "event_pk": event.pk.hex,
    "action": event.action,
    "created": event.created.isoformat(),
    "model": model,
}
`;

/**
 * The recommended authentik webhook **header** mapping: authenticates deliveries with the
 * shared secret, read from the environment of the authentik worker that sends them.
 */
export const AUTHENTIK_WEBHOOK_HEADER_MAPPING = `# Backstage catalog (authentik module): webhook header mapping
import os
secret = os.environ.get("BACKSTAGE_WEBHOOK_SECRET", "")
return {"Authorization": f"Bearer {secret}"}
`;

const MODEL_ACTIONS: ReadonlySet<string> = new Set<AuthentikModelAction>([
  'model_created',
  'model_updated',
  'model_deleted',
]);
const SYNCED_APP = 'authentik_core';
const ACTION_PATTERN = /^[a-z_]+$/;
const UUID_PATTERN =
  /^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;
const ISO_8601_PATTERN =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const MAX_USER_PK_DIGITS = 30;
const MAX_QUOTED = 64;

const pkSchema = z.union([z.number().int(), z.bigint(), z.string().min(1)], {
  errorMap: () => ({ message: 'expected an integer or a non-empty string' }),
});

/** `context.model` as authentik records it (extra keys tolerated and dropped). */
const modelSchema = z.object({
  pk: pkSchema,
  app: z.string(),
  model_name: z.string(),
  name: z.string().nullish(),
});

const mappingBodySchema = z
  .object({
    version: z.literal(1, { errorMap: () => ({ message: 'expected 1' }) }),
    test: z.boolean().optional(),
    body: z.string().nullish(),
    event_pk: z
      .string()
      .refine(v => UUID_PATTERN.test(v), 'expected a UUID (32 hex digits, dashes optional)')
      .optional(),
    action: z.string().min(1).optional(),
    created: z
      .string()
      .refine(
        v => ISO_8601_PATTERN.test(v) && !Number.isNaN(Date.parse(v)),
        'expected an ISO-8601 timestamp with a time zone',
      )
      .optional(),
    model: modelSchema.nullish(),
  })
  .superRefine((v, ctx) => {
    if (v.test !== true && v.action === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['action'], message: 'Required' });
    }
  });

const defaultBodySchema = z.object({ body: z.string() });

type ModelInfo = z.infer<typeof modelSchema>;

/** Classifies one webhook body. Never throws. */
export function analyzeAuthentikWebhook(body: unknown): AuthentikWebhookAnalysis {
  if (!isPlainObject(body)) {
    return invalid(`body must be a JSON object, got ${describeType(body)}`);
  }
  if (Object.prototype.hasOwnProperty.call(body, 'version')) return analyzeMappingBody(body);
  if (Object.prototype.hasOwnProperty.call(body, 'body')) return analyzeDefaultBody(body);
  return invalid('body has neither "version" (body mapping) nor "body" (default body)');
}

function analyzeMappingBody(body: Record<string, unknown>): AuthentikWebhookAnalysis {
  const parsed = mappingBodySchema.safeParse(body);
  if (!parsed.success) return invalid(`invalid mapping body: ${formatIssues(parsed.error)}`);
  const data = parsed.data;
  if (data.test === true) return ignored('test notification');
  const action = data.action ?? '';
  return classify(action, data.model ?? null, 'mapping', {
    eventId: data.event_pk === undefined ? undefined : normalizeUuid(data.event_pk),
    created: data.created === undefined ? undefined : new Date(data.created).toISOString(),
  });
}

function analyzeDefaultBody(body: Record<string, unknown>): AuthentikWebhookAnalysis {
  const parsed = defaultBodySchema.safeParse(body);
  if (!parsed.success) return invalid(`invalid default body: ${formatIssues(parsed.error)}`);
  const text = parsed.data.body;
  const split = text.indexOf(': ');
  if (split < 0) return ignored('notification body is not "<action>: {…}"');
  const action = text.slice(0, split);
  const rest = text.slice(split + 2);
  if (!ACTION_PATTERN.test(action) || !/^\s*\{/.test(rest)) {
    return ignored('notification body is not "<action>: {…}"');
  }
  let context;
  try {
    context = parseLeadingPythonDict(rest);
  } catch (error) {
    if (error instanceof PythonLiteralError) {
      // Positions are reported relative to the whole `body` string.
      const position = error.position + split + 2;
      return invalid(`body: malformed event context: ${stripPosition(error.message)} at offset ${position}`);
    }
    return invalid('body: malformed event context');
  }
  if (!isModelAction(action)) return notModelAction(action);
  const model = context['model'];
  if (model === undefined || model === null) return classify(action, null, 'default', {});
  const shape = modelSchema.safeParse(model);
  if (!shape.success) return invalid(`body: malformed event context: ${formatIssues(shape.error, 'model')}`);
  return classify(action, shape.data, 'default', {});
}

/**
 * Classifies one entry of authentik's event log (already validated as such) the way a
 * webhook about the same event is classified. Never throws.
 */
export function analyzeAuthentikLogEvent(event: {
  pk: string;
  action: string;
  created: string;
  context?: Record<string, unknown> | null;
}): AuthentikWebhookAnalysis {
  if (!UUID_PATTERN.test(event.pk)) return invalid(`event pk: expected a UUID, got ${quote(event.pk)}`);
  const extra = { eventId: normalizeUuid(event.pk), created: new Date(event.created).toISOString() };
  if (!isModelAction(event.action)) return notModelAction(event.action);
  const model = event.context?.['model'];
  if (model === undefined || model === null) return classify(event.action, null, 'log', extra);
  const shape = modelSchema.safeParse(model);
  if (!shape.success) return invalid(`event context: ${formatIssues(shape.error, 'model')}`);
  return classify(event.action, shape.data, 'log', extra);
}

/** Shared by every form once the input is well-typed. */
function classify(
  action: string,
  model: ModelInfo | null,
  form: AuthentikChangeHint['form'],
  extra: { eventId?: string; created?: string },
): AuthentikWebhookAnalysis {
  if (!isModelAction(action)) return notModelAction(action);
  if (model === null) return ignored(`${action} event without a model`);
  const modelName = syncedModelName(model);
  if (modelName === undefined) {
    return ignored(`model ${quote(`${model.app}.${model.model_name}`)} is not synced`);
  }
  const pk = modelName === 'user' ? normalizeUserPk(model.pk) : normalizeGroupPk(model.pk);
  if (pk === undefined) {
    const expected = modelName === 'user' ? 'a non-negative integer' : 'a UUID';
    return invalid(`model.pk: expected ${expected} for ${modelName}, got ${quote(String(model.pk))}`);
  }
  const hint: AuthentikChangeHint = { model: modelName, pk, action, form };
  if (extra.eventId !== undefined) hint.eventId = extra.eventId;
  if (extra.created !== undefined) hint.created = extra.created;
  if (typeof model.name === 'string' && model.name.length > 0) hint.name = model.name;
  return { result: 'ok', hint };
}

function notModelAction(action: string): AuthentikWebhookAnalysis {
  return ignored(`action ${quote(action)} is not a model action`);
}

function isModelAction(action: string): action is AuthentikModelAction {
  return MODEL_ACTIONS.has(action);
}

function syncedModelName(model: ModelInfo): AuthentikModelName | undefined {
  if (model.app !== SYNCED_APP) return undefined;
  if (model.model_name === 'user' || model.model_name === 'group') return model.model_name;
  return undefined;
}

/** User pks: an int, or a string of digits, as a canonical decimal string. */
function normalizeUserPk(pk: ModelInfo['pk']): string | undefined {
  if (typeof pk === 'number') return Number.isSafeInteger(pk) && pk >= 0 ? String(pk) : undefined;
  if (typeof pk === 'bigint') return pk >= 0n ? pk.toString() : undefined;
  if (!/^\d+$/.test(pk) || pk.length > MAX_USER_PK_DIGITS) return undefined;
  return BigInt(pk).toString();
}

/** Group pks: a dashed or undashed UUID, lower-cased without dashes. */
function normalizeGroupPk(pk: ModelInfo['pk']): string | undefined {
  if (typeof pk !== 'string' || !UUID_PATTERN.test(pk)) return undefined;
  return normalizeUuid(pk);
}

function normalizeUuid(uuid: string): string {
  return uuid.replace(/-/g, '').toLowerCase();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** `path: message` for the first few issues, the path prefixed by `prefix` when given. */
function formatIssues(error: z.ZodError, prefix?: string): string {
  return error.issues
    .slice(0, 3)
    .map(issue => {
      const path = [...(prefix === undefined ? [] : [prefix]), ...issue.path].join('.');
      return `${path.length > 0 ? path : '(root)'}: ${issue.message}`;
    })
    .join('; ');
}

function stripPosition(message: string): string {
  return message.replace(/ at position \d+$/, '');
}

/** Untrusted text for a reason: cut short, and JSON-quoted unless it is a plain identifier. */
function quote(text: string): string {
  const cut = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
  return /^[\w.-]+$/.test(cut) ? cut : JSON.stringify(cut);
}

function ignored(reason: string): AuthentikWebhookAnalysis {
  return { result: 'ignored', reason };
}

function invalid(reason: string): AuthentikWebhookAnalysis {
  return { result: 'invalid', reason };
}
