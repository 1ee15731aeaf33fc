import { disambiguatedName } from './names';

/** Two authentik objects whose names sanitise to the same entity name. */
export interface NameCollision {
  /** The contested entity name, kept by the first (oldest) object. */
  name: string;
  /** Key (pk) of the object that keeps `name`. */
  keptBy: string;
  /** Key (pk) of the object that was renamed. */
  renamed: string;
  /** The name it got instead. */
  assigned: string;
  /** Its name in authentik. */
  raw?: string;
}

/**
 * Claims `base` for the object `key` in `claims` (entity name → owner key). Objects are
 * claimed oldest first, so the oldest keeps the plain name and a later one gets
 * `<base>-<suffix>` with the first suffix that is free: deterministic whatever the order
 * in which authentik lists them.
 */
/** Entity name → owner key; a `Map` fits, and so does `HashedNameClaims` for user pks. */
export interface NameClaimsTable<K> {
  get(name: string): K | undefined;
  set(name: string, key: K): unknown;
}

export function claimName<K extends string | number>(
  claims: NameClaimsTable<K>,
  base: string,
  key: K,
  suffixes: string[] | (() => string[]),
): { name: string; collision?: NameCollision } {
  const owner = claims.get(base);
  if (owner === undefined || owner === key) {
    claims.set(base, key);
    return { name: base };
  }
  for (const suffix of typeof suffixes === 'function' ? suffixes() : suffixes) {
    const candidate = disambiguatedName(base, suffix);
    const candidateOwner = claims.get(candidate);
    if (candidateOwner === undefined || candidateOwner === key) {
      claims.set(candidate, key);
      return { name: candidate, collision: { name: base, keptBy: String(owner), renamed: String(key), assigned: candidate } };
    }
  }
  throw new Error(`No free entity name for ${key} (base "${base}")`);
}
