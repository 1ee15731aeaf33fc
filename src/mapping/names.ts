/**
 * Entity names from authentik names.
 *
 * The spec's rule: lowercase, then replace every character outside [a-z0-9-_.] by "-".
 * The catalog additionally needs 1–63 characters, alphanumeric at both ends; this module
 * makes the rule total without changing names that were already valid.
 */

const MAX_NAME_LENGTH = 63;
const EDGE_SEPARATORS = /^[-_.]+|[-_.]+$/g;
const VALID_NAME = /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;

/** The spec's sanitisation, and the form `excludeGroups` is matched against. */
export function sanitizeName(raw: string): string {
  // One "-" per character (code point), as the spec says, also outside the BMP.
  return raw.toLowerCase().replace(/[^a-z0-9\-_.]/gu, '-');
}

/**
 * A valid catalog entity name for `raw`, or `fallback` when nothing usable remains
 * (a name made only of characters the catalog cannot hold).
 */
export function toEntityName(raw: string, fallback: string): string {
  // Most authentik names are valid already (every user of a walk passes here twice).
  if (raw.length <= MAX_NAME_LENGTH && VALID_NAME.test(raw)) return raw;
  const trimmed = sanitizeName(raw).replace(EDGE_SEPARATORS, '');
  const cut = trimmed.slice(0, MAX_NAME_LENGTH).replace(EDGE_SEPARATORS, '');
  return cut.length > 0 ? cut : fallback;
}

/**
 * The name given to an object whose base name is already held by another object:
 * `<base>-<suffix>`, cut so that the whole stays within 63 characters.
 */
export function disambiguatedName(base: string, suffix: string): string {
  const room = MAX_NAME_LENGTH - suffix.length - 1;
  const head = room > 0 ? base.slice(0, room).replace(EDGE_SEPARATORS, '') : '';
  return head.length > 0 ? `${head}-${suffix}` : suffix.slice(0, MAX_NAME_LENGTH);
}

/** Whether `name` is a valid catalog entity name (used by tests and as a final guard). */
export function isValidEntityName(name: string): boolean {
  return name.length >= 1 && name.length <= MAX_NAME_LENGTH && VALID_NAME.test(name);
}
