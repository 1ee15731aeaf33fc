import { z } from 'zod/v4';

/** Whether a parsed JSON value is one `schema.safeParse` would accept (see `compileJsonCheck`). */
export type JsonCheck = (value: unknown) => boolean;

/**
 * The zod schema as a plain predicate over parsed JSON, for the one response a walk reads a
 * thousand times: a page of 100 users. zod's validation of such a page allocates a result
 * object and an issue list per field of every user (~1.4 KB per user, 140 MB per
 * 100,000-user walk, more than `JSON.parse` itself), and that garbage is what keeps the young
 * generation collecting and promoting. The predicate allocates nothing.
 *
 * It is derived from the schema, not written beside it, so the schema stays the one
 * definition: object (unknown keys allowed), string, boolean, finite number (optionally a
 * safe integer), optional, nullable and array. Any other construct, check or option (a
 * transform, a refinement, a length check, coercion, a catch-all) gives `undefined`: the
 * caller then validates with zod alone. A value the predicate refuses is validated by zod
 * too, for its message; `jsonCheck.test.ts` checks that both agree on thousands of mutated
 * values.
 */
export function compileJsonCheck(schema: z.ZodType): JsonCheck | undefined {
  const def = schema._zod.def as ZodDef;
  switch (def.type) {
    case 'string':
      return plain(def) ? isString : undefined;
    case 'boolean':
      return plain(def) ? isBoolean : undefined;
    case 'number':
      return numberCheck(def);
    case 'optional': {
      const inner = compileJsonCheck(def.innerType!);
      return inner && (value => value === undefined || inner(value));
    }
    case 'nullable': {
      const inner = compileJsonCheck(def.innerType!);
      return inner && (value => value === null || inner(value));
    }
    case 'array': {
      const element = plain(def) ? compileJsonCheck(def.element!) : undefined;
      return element && (value => Array.isArray(value) && everyElement(value, element));
    }
    case 'object':
      return objectCheck(def);
    default:
      return undefined;
  }
}

interface ZodDef {
  type: string;
  checks?: { _zod: { def: { check: string; format?: string } } }[];
  coerce?: boolean;
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
}

/** No checks and no coercion. */
function plain(def: ZodDef): boolean {
  return !def.coerce && (def.checks?.length ?? 0) === 0;
}

function isString(value: unknown): boolean {
  return typeof value === 'string';
}

function isBoolean(value: unknown): boolean {
  return typeof value === 'boolean';
}

/** zod 4's `number()` refuses NaN and ±Infinity; `.int()` is a safe integer. */
function numberCheck(def: ZodDef): JsonCheck | undefined {
  if (def.coerce) return undefined;
  const checks = def.checks ?? [];
  if (checks.length === 0) return value => typeof value === 'number' && Number.isFinite(value);
  const [only] = checks;
  if (checks.length === 1 && only._zod.def.check === 'number_format' && only._zod.def.format === 'safeint') {
    return value => typeof value === 'number' && Number.isSafeInteger(value);
  }
  return undefined;
}

function objectCheck(def: ZodDef): JsonCheck | undefined {
  if (def.catchall || (def.checks?.length ?? 0) > 0 || !def.shape) return undefined;
  const keys: string[] = [];
  const checks: JsonCheck[] = [];
  for (const [key, field] of Object.entries(def.shape)) {
    const check = compileJsonCheck(field);
    if (!check) return undefined;
    keys.push(key);
    checks.push(check);
  }
  return value => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const record = value as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) {
      if (!checks[i](record[keys[i]])) return false;
    }
    return true;
  };
}

function everyElement(values: unknown[], check: JsonCheck): boolean {
  for (let i = 0; i < values.length; i++) {
    if (!check(values[i])) return false;
  }
  return true;
}
