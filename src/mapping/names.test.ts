import { KubernetesValidatorFunctions } from '@backstage/catalog-model';
import fc from 'fast-check';
import { disambiguatedName, isValidEntityName, sanitizeName, toEntityName } from './names';

/** Valid for this module and for the catalog itself. */
function expectCatalogName(name: string): void {
  expect(isValidEntityName(name)).toBe(true);
  expect(KubernetesValidatorFunctions.isValidObjectName(name)).toBe(true);
}

describe('sanitizeName (the spec rule, and the form excludeGroups is matched against)', () => {
  it.each([
    // The spec's own examples.
    ['Authentik Admins', 'authentik-admins'],
    ['authentik Read-only', 'authentik-read-only'],
    // Lowercase.
    ['ENGINEERING', 'engineering'],
    ['MixedCase42', 'mixedcase42'],
    // [a-z0-9-_.] kept as they are.
    ['a-b_c.d', 'a-b_c.d'],
    ['0123456789', '0123456789'],
    // Everything else becomes "-", one per character, nothing is trimmed or collapsed.
    ['a b', 'a-b'],
    ['a  b', 'a--b'],
    ['a/b\\c', 'a-b-c'],
    ['tab\tnew\nline', 'tab-new-line'],
    ['x+y=z', 'x-y-z'],
    ['(team)', '-team-'],
    [' Admins ', '-admins-'],
    ['jane.doe@example.com', 'jane.doe-example.com'],
    ['first+tag@mail.example.org', 'first-tag-mail.example.org'],
    // Unicode: lowercased first, then every non-[a-z0-9-_.] code unit becomes "-".
    ['Ünïcødé', '-n-c-d-'],
    ['Straße', 'stra-e'],
    ['日本語', '---'],
    ['Ωmega', '-mega'],
    ['', ''],
  ])('%j → %j', (raw, expected) => {
    expect(sanitizeName(raw)).toBe(expected);
  });

  it('replaces every character outside [a-z0-9-_.] by "-" and keeps the length (BMP strings)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'aZ9-_. @/ÄéΩ日\t'.split('')) }), raw => {
        const out = sanitizeName(raw);
        expect(out).toHaveLength(raw.length);
        expect(out).toMatch(/^[a-z0-9\-_.]*$/);
        for (let i = 0; i < raw.length; i++) {
          const lower = raw[i].toLowerCase();
          expect(out[i]).toBe(/^[a-z0-9\-_.]$/.test(lower) ? lower : '-');
        }
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), raw => {
        expect(sanitizeName(sanitizeName(raw))).toBe(sanitizeName(raw));
      }),
    );
  });
});

describe('toEntityName', () => {
  const FALLBACK = 'user-1';

  it.each([
    ['Authentik Admins', 'authentik-admins'],
    ['authentik Read-only', 'authentik-read-only'],
    ['JDoe', 'jdoe'],
    ['jane.doe@example.com', 'jane.doe-example.com'],
    ['Ünïcødé', 'n-c-d'],
    ['café', 'caf'],
    ['İstanbul', 'i-stanbul'],
    // Names that are already valid are kept as they are.
    ['jane.doe', 'jane.doe'],
    ['a_b-c.d', 'a_b-c.d'],
    ['x', 'x'],
    ['a--b', 'a--b'],
    // Leading/trailing separators (also those produced by sanitising) are trimmed.
    ['  Jane  ', 'jane'],
    ['--a--', 'a'],
    ['.hidden.', 'hidden'],
    ['_x_', 'x'],
    ['-._a._-', 'a'],
    ['(team)', 'team'],
    ['@admins!', 'admins'],
  ])('%j → %j', (raw, expected) => {
    expect(toEntityName(raw, FALLBACK)).toBe(expected);
    expectCatalogName(expected);
  });

  it.each([
    ['exactly 63 characters', 'a'.repeat(63), 'a'.repeat(63)],
    ['64 characters', 'b'.repeat(64), 'b'.repeat(63)],
    ['200 characters', 'c'.repeat(200), 'c'.repeat(63)],
    ['cut right after a separator', `${'a'.repeat(62)}-bbb`, 'a'.repeat(62)],
    ['cut right after several separators', `${'a'.repeat(60)}.-_bbb`, 'a'.repeat(60)],
    ['leading separators do not count', `---${'d'.repeat(63)}`, 'd'.repeat(63)],
    ['long with spaces', `${'Team '.repeat(20)}`, `${'team-'.repeat(12)}tea`],
  ])('truncates over 63 characters: %s', (_label, raw, expected) => {
    const name = toEntityName(raw, FALLBACK);
    expect(name).toBe(expected);
    expect(name.length).toBeLessThanOrEqual(63);
    expectCatalogName(name);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['only separators', '-_.-'],
    ['only punctuation', '!!!'],
    ['only CJK', '日本語'],
    ['only emoji', '👍🚀'],
    ['a single titlecase digraph', 'ǅ'],
  ])('falls back when nothing usable remains: %s', (_label, raw) => {
    expect(toEntityName(raw, FALLBACK)).toBe(FALLBACK);
    expect(toEntityName(raw, 'group-42')).toBe('group-42');
  });

  const anyString = fc.oneof(
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    // Heavy on separators, so that trimming and cutting at 63 are exercised.
    fc.string({ unit: fc.constantFrom('a', 'Z', '9', '-', '_', '.', ' ', '@', 'é'), maxLength: 140 }),
  );

  it('gives a valid, stable entity name for ANY string', () => {
    fc.assert(
      fc.property(anyString, raw => {
        const name = toEntityName(raw, FALLBACK);
        expect(isValidEntityName(name)).toBe(true);
        expect(KubernetesValidatorFunctions.isValidObjectName(name)).toBe(true);
        expect(toEntityName(raw, FALLBACK)).toBe(name);
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent and keeps names whose sanitised form is already valid', () => {
    fc.assert(
      fc.property(anyString, raw => {
        const name = toEntityName(raw, FALLBACK);
        expect(toEntityName(name, FALLBACK)).toBe(name);
        if (isValidEntityName(sanitizeName(raw))) {
          expect(name).toBe(sanitizeName(raw));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('only ever drops characters from the ends of the sanitised name (or falls back)', () => {
    fc.assert(
      fc.property(anyString, raw => {
        const name = toEntityName(raw, FALLBACK);
        if (name !== FALLBACK) {
          expect(sanitizeName(raw)).toContain(name);
        }
      }),
    );
  });
});

describe('disambiguatedName', () => {
  it.each([
    ['dev-ops', '5', 'dev-ops-5'],
    ['dev-ops', 'u5', 'dev-ops-u5'],
    ['a', '12345678', 'a-12345678'],
    // Cut so that the whole stays within 63 characters.
    ['a'.repeat(63), '12345', `${'a'.repeat(57)}-12345`],
    // A cut that ends on a separator drops it.
    [`${'a'.repeat(56)}-bbbbbb`, '12345', `${'a'.repeat(56)}-12345`],
    [`${'a'.repeat(55)}._bbbbbb`, '12345', `${'a'.repeat(55)}-12345`],
    // A 32-character key as suffix (groups without num_pk).
    ['b'.repeat(63), 'f'.repeat(32), `${'b'.repeat(30)}-${'f'.repeat(32)}`],
  ])('(%j, %j) → %j', (base, suffix, expected) => {
    const name = disambiguatedName(base, suffix);
    expect(name).toBe(expected);
    expectCatalogName(name);
  });

  /** Valid entity names, as toEntityName produces them, including 63-character ones. */
  const validBase = fc
    .oneof(
      fc.string({ unit: fc.constantFrom('a', 'b', '7', '-', '_', '.', ' '), minLength: 1, maxLength: 90 }),
      fc.string({ unit: 'grapheme', minLength: 1 }),
    )
    .map(raw => toEntityName(raw, 'fallback-0'));
  const alnumSuffix = fc.string({
    unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')),
    minLength: 1,
    maxLength: 62,
  });

  it('is valid for any valid base and alphanumeric suffix (up to 62 characters)', () => {
    fc.assert(
      fc.property(validBase, alnumSuffix, (base, suffix) => {
        expect(isValidEntityName(base)).toBe(true);
        const name = disambiguatedName(base, suffix);
        expectCatalogName(name);
        expect(name.endsWith(suffix)).toBe(true);
        if (name !== suffix) {
          expect(name.endsWith(`-${suffix}`)).toBe(true);
          // The head is a prefix of the base.
          expect(base.startsWith(name.slice(0, name.length - suffix.length - 1))).toBe(true);
        }
        expect(disambiguatedName(base, suffix)).toBe(name);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['pk', '42'],
    ['u-prefixed pk', 'u42'],
    ['num_pk', '1234567'],
    ['undashed UUID', '0f8fad5bd9cb469fa16570867728950e'],
  ])('realistic suffixes (%s) on a 63-character base stay within 63 characters', (_label, suffix) => {
    const name = disambiguatedName('z'.repeat(63), suffix);
    expect(name).toHaveLength(63);
    expectCatalogName(name);
  });
});

describe('isValidEntityName', () => {
  it.each([
    ['a', true],
    ['a1', true],
    ['1a', true],
    ['a-b', true],
    ['a_b', true],
    ['a.b', true],
    ['a--b', true],
    ['a'.repeat(63), true],
    ['', false],
    ['a'.repeat(64), false],
    ['-a', false],
    ['a-', false],
    ['.a', false],
    ['a_', false],
    ['A', false],
    ['aB', false],
    ['a b', false],
    ['a@b', false],
    ['é', false],
  ])('%j → %s', (name, valid) => {
    expect(isValidEntityName(name)).toBe(valid);
  });

  it('accepts nothing the catalog would refuse', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'B', '1', '-', '_', '.', ' ', 'é'), maxLength: 70 }), name => {
        if (isValidEntityName(name)) {
          expect(KubernetesValidatorFunctions.isValidObjectName(name)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
