import { isSorted } from './query';

/**
 * One ordering of a directory collection, kept up to date incrementally: after a few
 * changes only the touched objects are taken out and re-inserted (binary search), so a
 * walk interleaved with mutations does not re-sort 100k objects per page. Falls back to
 * a full sort when many objects changed or the change journal no longer covers the gap.
 */
export interface SortedIndexSource<T> {
  version(): number;
  all(): T[];
  /** Whether the object is still in the collection (not deleted). */
  isLive(item: T): boolean;
  /** Objects (stored, mutated in place) changed since `version`; `undefined` when unknown. */
  touchedSince(version: number): ReadonlySet<T> | undefined;
}

export class SortedIndex<T> {
  private items: readonly T[] = [];
  private builtAt = -1;

  constructor(
    private readonly source: SortedIndexSource<T>,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  /** The current ordering. The returned array is never mutated afterwards. */
  get(): readonly T[] {
    const version = this.source.version();
    if (version === this.builtAt) return this.items;
    const touched = this.builtAt < 0 ? undefined : this.source.touchedSince(this.builtAt);
    this.items = touched && touched.size <= 256 ? this.patched(touched) : this.rebuilt();
    this.builtAt = version;
    return this.items;
  }

  private rebuilt(): T[] {
    const items = this.source.all();
    return isSorted(items, this.compare) ? items : items.sort(this.compare);
  }

  private patched(touched: ReadonlySet<T>): T[] {
    // Untouched objects kept their sort keys: without the touched ones the list is sorted.
    // Objects are found by identity (`indexOf` is a fast native scan).
    const items = [...this.items];
    for (const item of touched) {
      const at = items.indexOf(item);
      if (at >= 0) items.splice(at, 1);
    }
    for (const item of touched) {
      if (this.source.isLive(item)) items.splice(this.insertionPoint(items, item), 0, item);
    }
    return items;
  }

  private insertionPoint(items: readonly T[], item: T): number {
    let low = 0;
    let high = items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.compare(items[mid], item) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
