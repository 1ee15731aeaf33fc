/**
 * The catalog as a client sees it: `GET /api/catalog/...` with the static external-access
 * token of the dev config. Everything the bench calls "visible" is read through here.
 */
import type { Entity } from '@backstage/catalog-model';

export class CatalogHttp {
  /** Catalog HTTP requests made (the bench's own polling, not counted anywhere else). */
  requests = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** `GET /entities/by-name/{kind}/default/{name}`: the entity, or undefined on 404. */
  async byName(kind: string, name: string): Promise<Entity | undefined> {
    const path = `/api/catalog/entities/by-name/${encodeURIComponent(kind.toLowerCase())}/default/${encodeURIComponent(name)}`;
    const response = await this.get(path);
    if (response.status === 404) {
      await response.arrayBuffer();
      return undefined;
    }
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as Entity;
  }

  /** Every entity matching `filter` (`by-query`, cursor pages), optionally with only `fields`. */
  async query(filter: string, fields?: string[], pageSize = 1000): Promise<Entity[]> {
    const items: Entity[] = [];
    let cursor: string | undefined;
    for (;;) {
      const params = new URLSearchParams();
      if (cursor) params.set('cursor', cursor);
      else params.set('filter', filter);
      params.set('limit', String(pageSize));
      if (fields) params.set('fields', fields.join(','));
      const path = `/api/catalog/entities/by-query?${params}`;
      const response = await this.get(path);
      if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
      const page = (await response.json()) as { items: Entity[]; pageInfo?: { nextCursor?: string } };
      items.push(...page.items);
      cursor = page.pageInfo?.nextCursor;
      if (!cursor || page.items.length === 0) return items;
    }
  }

  /** `POST /entities/by-refs`: one item per ref, in order, null when absent. */
  async byRefs(entityRefs: string[], fields?: string[]): Promise<Array<Entity | null>> {
    this.requests += 1;
    const response = await fetch(`${this.baseUrl}/api/catalog/entities/by-refs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ entityRefs, ...(fields ? { fields } : {}) }),
    });
    if (!response.ok) throw new Error(`POST /entities/by-refs: HTTP ${response.status} ${await response.text()}`);
    return ((await response.json()) as { items: Array<Entity | null> }).items;
  }

  /** `totalItems` of a by-query (one cheap request). */
  async count(filter: string): Promise<number> {
    const params = new URLSearchParams({ filter, limit: '1', fields: 'metadata.name' });
    const path = `/api/catalog/entities/by-query?${params}`;
    const response = await this.get(path);
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
    return ((await response.json()) as { totalItems: number }).totalItems;
  }

  /** A GET on any backend path with the token (provider status, health). */
  async getJson(path: string): Promise<{ status: number; body: any }> {
    const response = await this.get(path);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body };
  }

  private get(path: string): Promise<Response> {
    this.requests += 1;
    return fetch(`${this.baseUrl}${path}`, { headers: { Authorization: `Bearer ${this.token}` } });
  }
}

/** `memberOf` relation targets of an entity (`group:default/<name>` → `<name>`). */
export function memberOfRelations(entity: Entity | undefined): Set<string> {
  const names = new Set<string>();
  for (const relation of entity?.relations ?? []) {
    if (relation.type !== 'memberOf') continue;
    const match = /^group:default\/(.+)$/.exec(relation.targetRef);
    if (match) names.add(match[1]);
  }
  return names;
}

/** `spec.memberOf` of a User entity, as a set. */
export function specMemberOf(entity: Entity | undefined): Set<string> {
  const raw = (entity?.spec as { memberOf?: unknown } | undefined)?.memberOf;
  return new Set(Array.isArray(raw) ? raw.map(String) : []);
}

export function displayNameOf(entity: Entity | undefined): string | undefined {
  const profile = (entity?.spec as { profile?: { displayName?: unknown } } | undefined)?.profile;
  return typeof profile?.displayName === 'string' ? profile.displayName : undefined;
}
