import { HttpError } from './http';

/**
 * authentik's page-number pagination: Django's `Paginator` (an empty list still has one
 * page) wrapped by DRF's `PageNumberPagination`, rendered by authentik's `Pagination`
 * class (`next`/`previous` are page numbers, 0 when absent).
 */

export interface PaginationEnvelope {
  next: number;
  previous: number;
  count: number;
  current: number;
  total_pages: number;
  start_index: number;
  end_index: number;
}

export interface PageSizeLimits {
  defaultPageSize: number;
  maxPageSize: number;
}

/** DRF `_positive_int(strict=True, cutoff=max)`: invalid, zero or negative → the default. */
export function pageSizeFrom(raw: string | null, limits: PageSizeLimits): number {
  if (raw === null || !/^\s*\+?\d+\s*$/.test(raw)) return limits.defaultPageSize;
  const size = Number(raw);
  if (size <= 0) return limits.defaultPageSize;
  return Math.min(size, limits.maxPageSize);
}

export function paginate<T>(
  items: readonly T[],
  rawPage: string | null,
  pageSize: number,
): { pagination: PaginationEnvelope; slice: readonly T[] } {
  const count = items.length;
  const totalPages = count === 0 ? 1 : Math.ceil(count / pageSize);
  const page = pageNumberFrom(rawPage, totalPages);
  const start = (page - 1) * pageSize;
  const end = page === totalPages ? count : page * pageSize;
  return {
    pagination: {
      next: page < totalPages ? page + 1 : 0,
      previous: page > 1 ? page - 1 : 0,
      count,
      current: page,
      total_pages: totalPages,
      start_index: count === 0 ? 0 : start + 1,
      end_index: end,
    },
    slice: items.slice(start, end),
  };
}

/** DRF accepts `last`; anything else must be an integer within 1..total_pages. */
function pageNumberFrom(raw: string | null, totalPages: number): number {
  if (raw === null) return 1;
  if (raw === 'last') return totalPages;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw invalidPage();
  const page = Number(raw);
  if (page < 1 || page > totalPages) throw invalidPage();
  return page;
}

function invalidPage(): HttpError {
  return HttpError.detail(404, 'Invalid page.');
}
