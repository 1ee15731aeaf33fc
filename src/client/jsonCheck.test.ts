import { z } from 'zod/v4';
import { aUser, userJson } from '../__testUtils__/fixtures';
import { compileJsonCheck, JsonCheck } from './jsonCheck';
import { paginationSchema, userWireSchema } from './schemas';

/** Values of every JSON type, including the edges zod's number and int checks refuse. */
const ODD_VALUES: unknown[] = [
  null,
  '',
  'text',
  '42',
  0,
  -0,
  1,
  -7,
  1.5,
  2 ** 53,
  -(2 ** 53),
  2 ** 53 - 1,
  1e300,
  true,
  false,
  [],
  ['a'],
  [1],
  ['a', null],
  {},
  { pk: 1 },
];

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function pick<T>(random: () => number, values: T[]): T {
  return values[Math.floor(random() * values.length)];
}

/** A user as authentik sends it, with some of its fields changed, removed or added. */
function mutatedUser(random: () => number): unknown {
  const user: Record<string, unknown> = userJson(aUser({ pk: 1 + Math.floor(random() * 1000) }), {
    last_updated: '2026-01-01T00:00:00Z',
    path: 'users',
  });
  const keys = [...Object.keys(userWireSchema.shape), 'groups_obj', 'attributes', 'unknown_field'];
  const changes = 1 + Math.floor(random() * 3);
  for (let i = 0; i < changes; i++) {
    const key = pick(random, keys);
    const what = random();
    if (what < 0.2) delete user[key];
    else if (what < 0.3 && Array.isArray(user.groups)) user.groups = [...user.groups, pick(random, ODD_VALUES)];
    else user[key] = pick(random, ODD_VALUES);
  }
  return random() < 0.03 ? pick(random, ODD_VALUES) : user;
}

function expectAgreement(check: JsonCheck, schema: z.ZodType, value: unknown): void {
  const expected = schema.safeParse(value).success;
  if (check(value) !== expected) {
    throw new Error(`zod says ${expected ? 'valid' : 'invalid'}, the predicate does not: ${JSON.stringify(value)}`);
  }
}

describe('compileJsonCheck', () => {
  it('derives a predicate from the user schema (the walk relies on it for every page of users)', () => {
    expect(compileJsonCheck(userWireSchema)).toBeDefined();
  });

  it('agrees with zod on thousands of mutated users', () => {
    const check = compileJsonCheck(userWireSchema)!;
    const random = seededRandom(7);
    let valid = 0;
    for (let i = 0; i < 5_000; i++) {
      const value = mutatedUser(random);
      expectAgreement(check, userWireSchema, value);
      if (check(value)) valid += 1;
    }
    // Both outcomes are exercised, not only refusals.
    expect(valid).toBeGreaterThan(500);
    expect(valid).toBeLessThan(4_500);
  });

  it('agrees with zod on each JSON value in each field of a user', () => {
    const check = compileJsonCheck(userWireSchema)!;
    const base = userJson(aUser());
    for (const key of Object.keys(userWireSchema.shape)) {
      for (const value of ODD_VALUES) {
        expectAgreement(check, userWireSchema, { ...base, [key]: value });
      }
      const { [key]: _removed, ...without } = base;
      expectAgreement(check, userWireSchema, without);
    }
    for (const value of ODD_VALUES) expectAgreement(check, userWireSchema, value);
  });

  it.each([
    ['a transform', z.object({ a: z.string().transform(s => s.length) })],
    ['a refinement', z.object({ a: z.string().refine(s => s.length > 1) })],
    ['a length check', z.object({ a: z.string().min(1) })],
    ['a number check other than int', paginationSchema],
    ['coercion', z.object({ a: z.coerce.number() })],
    ['a catch-all', z.object({ a: z.string() }).catchall(z.string())],
    ['passthrough', z.object({ a: z.string() }).passthrough()],
    ['a custom check', z.object({ a: z.custom<number[]>(Array.isArray) })],
    ['a union', z.object({ a: z.union([z.string(), z.number()]) })],
  ])('gives no predicate for a schema with %s (zod alone validates it)', (_what, schema) => {
    expect(compileJsonCheck(schema)).toBeUndefined();
  });

  it('keeps nullable, optional and array semantics', () => {
    const schema = z.object({ a: z.array(z.number().int()).nullish(), b: z.boolean().optional(), c: z.number() });
    const check = compileJsonCheck(schema)!;
    for (const a of [undefined, null, [], [1, 2], [1.5], ['1'], 3]) {
      for (const b of [undefined, true, null, 'true']) {
        for (const c of [0, 1.5, -3, '1', null, undefined]) {
          expectAgreement(check, schema, { a, b, c });
        }
      }
    }
  });
});
