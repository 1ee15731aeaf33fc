import { DemoDirectory } from './directory';
import { OrderingTerm, SortValue, comparatorFor, orderingFrom, orderingKey } from './query';
import { SortedIndex, SortedIndexSource } from './sorted-index';
import { VersionedCache } from './versioned-cache';

/** One parsed set of filters: a cache key, and the test it stands for. */
export interface ListFilter<T> {
  key: string;
  accepts: (item: T) => boolean;
}

/** Collects filter checks and the cache key that identifies them. */
export function filterBuilder<T>() {
  const checks: Array<(item: T) => boolean> = [];
  const keyParts: string[] = [];
  return {
    add(key: string, check: (item: T) => boolean) {
      keyParts.push(key);
      checks.push(check);
    },
    build(): ListFilter<T> {
      return { key: keyParts.join('&'), accepts: item => checks.every(check => check(item)) };
    },
  };
}

export interface ListingOptions<T> {
  orderingFields: readonly string[];
  defaultOrdering: readonly OrderingTerm[];
  source: (directory: DemoDirectory) => SortedIndexSource<T>;
  sortValue: (item: T, field: string) => SortValue;
  /** Final tie-breaker of every ordering. */
  tieBreak: (item: T) => number;
}

/**
 * A list endpoint over the live directory: filtered and ordered as requested, with one
 * sorted index per ordering and filtered results cached per directory version.
 */
export abstract class Listing<T> {
  private readonly filtered: VersionedCache<readonly T[]>;
  private readonly orderings = new Map<string, SortedIndex<T>>();

  constructor(
    protected readonly directory: DemoDirectory,
    private readonly options: ListingOptions<T>,
  ) {
    this.filtered = new VersionedCache(() => directory.version);
  }

  list(params: URLSearchParams): readonly T[] {
    const ordering = orderingFrom(params, this.options.orderingFields, this.options.defaultOrdering);
    const filter = this.filterFrom(params);
    const sortKey = orderingKey(ordering);
    const sorted = this.sortedIndex(sortKey, ordering).get();
    if (filter.key === '') return sorted;
    return this.filtered.get(`${sortKey}|${filter.key}`, () => sorted.filter(filter.accepts));
  }

  /** Parses (and validates, as django-filter does) every supported filter. */
  protected abstract filterFrom(params: URLSearchParams): ListFilter<T>;

  private sortedIndex(key: string, ordering: readonly OrderingTerm[]): SortedIndex<T> {
    let index = this.orderings.get(key);
    if (!index) {
      const { source, sortValue, tieBreak } = this.options;
      index = new SortedIndex<T>(source(this.directory), comparatorFor<T>(ordering, sortValue, tieBreak));
      this.orderings.set(key, index);
    }
    return index;
  }
}
