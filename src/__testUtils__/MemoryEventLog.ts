import { randomUUID } from 'node:crypto';
import { AuthentikEventLogApi, ListEventsRequest } from '../client/AuthentikClient';
import { AuthentikPermissionError } from '../client/errors';
import { AuthentikLogEvent } from '../client/eventSchemas';

/** authentik's event log in memory: newest first, page-number pagination, a clock. */
export class MemoryEventLog implements AuthentikEventLogApi {
  /** Oldest first. */
  events: AuthentikLogEvent[] = [];
  forbidden = false;
  clock = Date.parse('2026-11-30T10:00:00Z');
  /** Called after each page is served (to add events while the follower pages). */
  afterPage?: (page: number) => void;
  /** Awaited before a page is served (to line up concurrent followers). */
  beforeServe?: () => Promise<void>;

  add(model: 'user' | 'group' | 'token', pk: number | string, action = 'model_updated', name = 'x'): AuthentikLogEvent {
    this.clock += 1000;
    const event = {
      pk: randomUUID(),
      action,
      created: new Date(this.clock).toISOString(),
      context: { model: { pk, app: 'authentik_core', model_name: model, name } },
    };
    this.events.push(event);
    return event;
  }

  async listEvents(request: ListEventsRequest) {
    await this.beforeServe?.();
    if (this.forbidden) throw new AuthentikPermissionError('GET /api/v3/events/events/', 403, 'You do not have permission');
    const newestFirst = [...this.events].reverse().filter(e => request.actions.includes(e.action));
    const total = Math.max(1, Math.ceil(newestFirst.length / request.pageSize));
    if (request.page > total) return undefined;
    const results = newestFirst.slice((request.page - 1) * request.pageSize, request.page * request.pageSize);
    this.afterPage?.(request.page);
    return {
      pagination: {
        next: request.page < total ? request.page + 1 : 0,
        previous: request.page - 1,
        count: newestFirst.length,
        current: request.page,
        total_pages: total,
        start_index: 0,
        end_index: 0,
      },
      results,
    };
  }
}
