import { HttpError } from './http';

/** Query-string semantics of the DRF / django-filter stack authentik uses. */

/** django-filter's `BooleanWidget`: true/1, false/0 (any case); anything else: no filter. */
export function booleanFilter(params: URLSearchParams, name: string): boolean | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const lower = raw.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  return undefined;
}

/** authentik reads `include_*` switches as `str(value).lower() == "true"`. */
export function includeSwitch(params: URLSearchParams, name: string, fallback: boolean): boolean {
  const raw = params.get(name);
  return raw === null ? fallback : raw.toLowerCase() === 'true';
}

/** A non-empty single-value filter (django-filter ignores empty values). */
export function textFilter(params: URLSearchParams, name: string): string | undefined {
  const raw = params.get(name);
  return raw === null || raw === '' ? undefined : raw;
}

/** A repeatable filter (`?type=a&type=b`), empty values dropped. */
export function listFilter(params: URLSearchParams, name: string): string[] {
  return params.getAll(name).filter(v => v !== '');
}

export function dateTimeFilter(params: URLSearchParams, name: string): number | undefined {
  const raw = textFilter(params, name);
  if (raw === undefined) return undefined;
  const parsed = Date.parse(raw.replace(' ', '+'));
  if (Number.isNaN(parsed)) throw HttpError.field(name, 'Enter a valid date/time.');
  return parsed;
}

/** The error django-filter returns for an unknown choice. */
export function invalidChoice(field: string, value: string): HttpError {
  return HttpError.field(field, `Select a valid choice. ${value} is not one of the available choices.`);
}

export type SortValue = string | number | boolean | null;

export interface OrderingTerm {
  field: string;
  descending: boolean;
}

/**
 * DRF's `OrderingFilter`: comma-separated fields, `-` for descending, unknown fields
 * dropped; nothing valid left → the view's default ordering.
 */
export function orderingFrom(
  params: URLSearchParams,
  validFields: readonly string[],
  fallback: readonly OrderingTerm[],
): OrderingTerm[] {
  const raw = params.get('ordering');
  if (raw === null) return [...fallback];
  const terms = raw
    .split(',')
    .map(term => term.trim())
    .map(term => ({ field: term.replace(/^-/, ''), descending: term.startsWith('-') }))
    .filter(term => validFields.includes(term.field));
  return terms.length > 0 ? terms : [...fallback];
}

export function orderingKey(terms: readonly OrderingTerm[]): string {
  return terms.map(t => `${t.descending ? '-' : ''}${t.field}`).join(',');
}

/**
 * A comparator over the terms, ties broken by `tieBreak` (ascending). Strings compare by
 * code unit (a "C" collation); nulls sort last ascending and first descending, as in Postgres.
 */
export function comparatorFor<T>(
  terms: readonly OrderingTerm[],
  valueOf: (item: T, field: string) => SortValue,
  tieBreak: (item: T) => SortValue,
): (a: T, b: T) => number {
  return (a, b) => {
    for (const term of terms) {
      const order = compareValues(valueOf(a, term.field), valueOf(b, term.field));
      if (order !== 0) return term.descending ? -order : order;
    }
    return compareValues(tieBreak(a), tieBreak(b));
  };
}

function compareValues(a: SortValue, b: SortValue): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isSorted<T>(items: readonly T[], compare: (a: T, b: T) => number): boolean {
  for (let i = 1; i < items.length; i += 1) if (compare(items[i - 1], items[i]) > 0) return false;
  return true;
}
