import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { DeferredEntity } from '@backstage/plugin-catalog-node';
import type {
  EntityIteratorResult,
  IncrementalEntityEventResult,
  IncrementalEntityProvider,
} from '@backstage/plugin-catalog-backend-module-incremental-ingestion';
import type { EventParams } from '@backstage/plugin-events-node';
import { CronTime } from 'cron';
import { AuthentikApi } from '../client/AuthentikClient';
import type { AuthentikGroup } from '../client/schemas';
import { AuthentikInstanceConfig, durationToMs } from '../config';
import { GroupIndex, GroupNames } from '../mapping/groupIndex';
import { HashedNameClaims } from '../mapping/HashedNameClaims';
import { claimName, NameCollision } from '../mapping/nameClaims';
import { eligibleUserTypes, mapUser, mapUserByDefault, userBaseName, userNameSuffixes } from '../mapping/userMapping';
import { MappingOptions, Transformers } from '../mapping/types';
import { sleep } from '../util/sleep';
import { WalkCursor, walkCursorSchema } from './cursor';
import { readAllGroups } from '../readers/readAllGroups';
import { fetchUserWindowPages, readUserWindow, scanUserWindow, UserWindowPages } from '../readers/readUserWindow';
import { RequestSlots } from '../util/RequestSlots';
import { StrandedEntityRepair } from './StrandedEntityRepair';
import { WalkProgress } from './WalkProgress';
import { SweepRecheck } from './SweepRecheck';
import { WalkRemovalGuard } from './WalkRemovalGuard';

/** Per-burst resources handed to `next()`. */
export interface WalkContext {
  signal: AbortSignal;
  /** True until the burst's first `next()` has run. */
  firstOfBurst: boolean;
  /**
   * `performance.now()` when the engine started the burst (just before `around`). The engine
   * ends a burst at the first mark past `burstLength`; a window read ahead then is wasted.
   */
  startedAt?: number;
  /** `performance.now()` when the previous `next()` of this burst began. */
  previousNextAt?: number;
}

/** In-memory state of the walk in progress: rebuilt from authentik if a burst resumes elsewhere. */
interface WalkState {
  walkId: string;
  /** The full index while groups are emitted; then only their names (see `namesOnly`). */
  groups: GroupIndex | GroupNames;
  /** Entity name → user pk, for the users walked so far (oldest keeps a contested name). */
  userClaims: HashedNameClaims;
  /**
   * Where the next window of this walk starts, as far as this process knows. Another
   * replica may have walked on in between: the claims then miss its users, and are rebuilt.
   */
  position: { page: number; afterPk: number };
  /** Pages of the user list when the last window was read: no window is read ahead past them. */
  totalPages?: number;
}

/** Receives the events of this instance's topics (see `src/events`). */
export interface WalkEventHandler {
  topics(): string[];
  onEvent(params: EventParams): Promise<IncrementalEntityEventResult>;
}

export interface AuthentikEntityProviderOptions {
  config: AuthentikInstanceConfig;
  api: AuthentikApi;
  logger: LoggerService;
  transformers?: Transformers;
  /** Set by the module once the webhook handler exists. */
  events?: WalkEventHandler;
  /** Observes what the walk does (metrics, benchmarks). */
  observer?: WalkObserver;
  /**
   * Every group the walk read (a read that began at `readStartedAt`, Date.now() time), for
   * the webhook path's group directory, which then need not read them again itself.
   */
  onGroupsRead?: (groups: AuthentikGroup[], readStartedAt: number) => void;
  /** The number of pages of the eligible user list, as the walk's last window saw it. */
  onUserPagesRead?: (pages: number) => void;
  /** Removes what refused sweeps left behind, after each complete walk. */
  strandedRepair?: StrandedEntityRepair;
  /** Fails a walk whose sweep would remove too many users or too many groups. */
  removalGuard?: WalkRemovalGuard;
  /** Reads again the users the sweep would remove; those authentik still holds are kept. */
  sweepRecheck?: SweepRecheck;
  /** Aborted when the backend shuts down: the burst in progress (and its waits) stop. */
  shutdownSignal?: AbortSignal;
  /**
   * A burst still running this long after it started is aborted. Default: when the
   * scheduler releases the engine's task to another replica, `burstLength` + 1 minute.
   */
  burstDeadlineMs?: number;
  /**
   * Most entities per `next()`: the engine inserts a batch's refs in one statement, and
   * SQLite takes at most 500 rows in one. Default: no limit (PostgreSQL).
   */
  maxBatchSize?: number;
}

export interface WalkObserver {
  onPage?(kind: 'users' | 'groups', requests: number): void;
  onEntities?(kind: 'User' | 'Group', count: number): void;
}

/** The engine schedules its task with a timeout of `burstLength` plus this. */
const ENGINE_TASK_MARGIN_MS = 60_000;

/**
 * Users mapped between two turns of the event loop. Mapping a window takes tens of
 * milliseconds of CPU; without a turn, the answers of the next window's requests wait in
 * their sockets and the freed request slots stay idle until the whole window is mapped.
 */
const USERS_BETWEEN_YIELDS = 100;

function yieldToEventLoop(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve));
}

/** The engine's database key for an instance: never change it between releases. */
export function providerNameFor(instanceId: string): string {
  return `authentik:${instanceId}`;
}

/**
 * Walks one authentik instance: all groups first (they are few, and users' memberships
 * are resolved through them), then users in pk order, a window of pages per `next()`.
 * Memory holds the group index and one window of users, never the whole directory's users.
 */
export class AuthentikEntityProvider implements IncrementalEntityProvider<WalkCursor, WalkContext> {
  private readonly mapping: MappingOptions;
  private readonly startedAt = Date.now();
  private state?: WalkState;
  /** A walk whose end the removal guard refused: its next burst reads everything again. */
  private refusedWalkId?: string;
  private progress?: WalkProgress;
  /** The pages of the next window of users, already being read (see `readAhead`). */
  private prefetched?: { walkId: string; page: number; signal: AbortSignal; pages: Promise<UserWindowPages | undefined> };
  /**
   * The walk's user-page requests in flight: a window's pages and its anchor. A window read
   * ahead queues behind the one before it, so authentik never sees more than that at once.
   */
  private readonly slots: RequestSlots;

  constructor(private readonly options: AuthentikEntityProviderOptions) {
    const { config } = options;
    this.slots = new RequestSlots(config.incremental.concurrency + 1);
    this.mapping = {
      instanceId: config.id,
      baseUrl: config.baseUrl,
      excludeGroups: config.excludeGroups,
      includeServiceAccounts: config.includeServiceAccounts,
    };
  }

  getProviderName(): string {
    return providerNameFor(this.options.config.id);
  }

  get eventHandler(): IncrementalEntityProvider<WalkCursor, WalkContext>['eventHandler'] {
    const events = this.options.events;
    if (!events) return undefined;
    return { supportsEventTopics: () => events.topics(), onEvent: params => events.onEvent(params) };
  }

  setEventHandler(events: WalkEventHandler): void {
    this.options.events = events;
  }

  /**
   * One burst: its requests and waits share a signal that is aborted when the burst ends,
   * when it outlives its deadline (the scheduler then considers it gone and another replica
   * may take over), and when the backend shuts down. An aborted burst fails; the engine
   * resumes the walk from its last mark.
   */
  async around(burst: (context: WalkContext) => Promise<void>): Promise<void> {
    const startedAt = performance.now();
    const controller = new AbortController();
    // Each request of a window listens to this signal while it is in flight.
    setMaxListeners(Math.max(50, this.options.config.incremental.concurrency * 4), controller.signal);
    const deadlineMs =
      this.options.burstDeadlineMs ?? durationToMs(this.options.config.incremental.burstLength) + ENGINE_TASK_MARGIN_MS;
    const deadline = setTimeout(
      () =>
        controller.abort(
          new Error(`authentik burst stopped after ${deadlineMs} ms (incremental.burstLength + 1 min); it resumes from its last mark`),
        ),
      deadlineMs,
    );
    const { shutdownSignal } = this.options;
    const onShutdown = () => controller.abort(new Error('authentik burst stopped: the backend is shutting down'));
    if (shutdownSignal?.aborted) onShutdown();
    shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
    try {
      // `initialDelay`: the first burst this process runs waits until that long after startup
      // (inside the burst: it delays the first reads after a deploy; shutdown interrupts it).
      const delay = this.startedAt + durationToMs(this.options.config.schedule.initialDelay) - Date.now();
      if (delay > 0) {
        await sleep(delay, controller.signal);
      }
      await burst({ signal: controller.signal, firstOfBurst: true, startedAt });
    } finally {
      clearTimeout(deadline);
      shutdownSignal?.removeEventListener('abort', onShutdown);
      controller.abort();
    }
  }

  async next(context: WalkContext, rawCursor?: WalkCursor): Promise<EntityIteratorResult<WalkCursor>> {
    const calledAt = performance.now();
    try {
      return await this.nextBatch(context, rawCursor);
    } finally {
      context.previousNextAt = calledAt;
    }
  }

  private async nextBatch(context: WalkContext, rawCursor?: WalkCursor): Promise<EntityIteratorResult<WalkCursor>> {
    if (rawCursor === undefined) {
      return { done: false, entities: [], cursor: this.startWalk() };
    }
    let cursor = this.parseCursor(rawCursor);
    if (context.firstOfBurst) {
      context.firstOfBurst = false;
      cursor = this.rewindLastBatch(cursor);
    }
    switch (cursor.phase) {
      case 'scheduled':
        return this.waitForStart(cursor, context);
      case 'groups':
        return this.emitGroups(cursor, context);
      case 'users':
        return this.emitUsers(cursor, context);
      default:
        throw new Error('unreachable');
    }
  }

  /**
   * The engine records a batch in three separate writes (the mark with its cursor, the
   * mark's entities, the catalog change). A replica stopped between the first two leaves a
   * stored cursor whose entities were never marked, and the walk's sweep would remove them
   * although authentik has them. So each burst starts by emitting the last batch again:
   * re-marking is harmless, and costs one window per burst.
   */
  private rewindLastBatch(cursor: WalkCursor): WalkCursor {
    if (cursor.phase === 'users' && cursor.walkId === this.refusedWalkId) {
      // The stored cursor sits at the end of a walk that read too little (see `emitUsers`):
      // resuming there would only meet the same refusal. Read the groups, then every user, again.
      this.refusedWalkId = undefined;
      return { phase: 'groups', walkId: cursor.walkId, startedAt: cursor.startedAt };
    }
    if (cursor.phase === 'groups' && cursor.offset) {
      return { ...cursor, offset: Math.max(0, cursor.offset - (this.options.maxBatchSize ?? cursor.offset)) };
    }
    if (cursor.phase !== 'users') {
      return cursor;
    }
    if (cursor.page === 1 && cursor.afterPk === 0) {
      return { phase: 'groups', walkId: cursor.walkId, startedAt: cursor.startedAt, again: true };
    }
    if (!cursor.previousWindow) {
      return cursor;
    }
    const { page, afterPk, users = cursor.users } = cursor.previousWindow;
    if (this.state?.walkId === cursor.walkId && this.state.position.page === cursor.page) {
      // Same process, same walk: the claims already hold those users; keep them.
      this.state.position = { page, afterPk };
    }
    return { ...cursor, page, afterPk, users, anchorFirstPk: undefined, previousWindow: undefined };
  }

  /**
   * A new cycle. Returning at once, with no entities, gives the engine a first mark right
   * away, so webhook deltas arriving while the groups are read can be recorded.
   */
  private startWalk(): WalkCursor {
    const walkId = randomUUID();
    const frequency = this.options.config.schedule.frequency;
    if (frequency.kind === 'cron') {
      const startAt = new CronTime(frequency.cron).sendAt().toMillis();
      this.options.logger.info(`Next authentik walk at ${new Date(startAt).toISOString()} (cron "${frequency.cron}")`);
      return { phase: 'scheduled', walkId, startAt };
    }
    return { phase: 'groups', walkId, startedAt: Date.now() };
  }

  /** Cron schedules: idle (in bounded naps, so bursts end) until the walk's start time. */
  private async waitForStart(
    cursor: Extract<WalkCursor, { phase: 'scheduled' }>,
    context: WalkContext,
  ): Promise<EntityIteratorResult<WalkCursor>> {
    const wait = cursor.startAt - Date.now();
    if (wait > 0) {
      await sleep(Math.min(wait, durationToMs(this.options.config.incremental.burstLength)), context.signal);
      return { done: false, entities: [], cursor };
    }
    return { done: false, entities: [], cursor: { phase: 'groups', walkId: cursor.walkId, startedAt: Date.now() } };
  }

  private async emitGroups(
    cursor: Extract<WalkCursor, { phase: 'groups' }>,
    context: WalkContext,
  ): Promise<EntityIteratorResult<WalkCursor>> {
    const readsGroups = this.state?.walkId !== cursor.walkId;
    const loading = this.loadGroupIndex(cursor.walkId, context); // asks for the first group page now
    if (readsGroups && !cursor.offset && !cursor.again && !this.burstEndsFirst(context)) {
      // The first window of users does not depend on the groups: its pages take the slots
      // the group reads leave idle (their first page, before the count is known, goes alone).
      this.readAhead(cursor.walkId, 1, undefined, context);
    }
    const { state, index } = await loading;
    const all = index.entities();
    if (all.length === 0 && index.excludedCount === 0) {
      // No groups at all is a token that cannot see them (authentik always has some), not
      // the truth. Fail here, not after the users: the engine resumes a failed walk from its
      // last mark, and a walk that had moved on to the users would never emit the groups
      // again. The empty group index is not kept: the retry reads the groups again.
      this.state = undefined;
      throw await this.noGroupsError(context);
    }
    const offset = cursor.offset ?? 0;
    const end = Math.min(all.length, offset + (this.options.maxBatchSize ?? Number.POSITIVE_INFINITY));
    const entities = all.slice(offset, end);
    this.options.observer?.onEntities?.('Group', entities.length);
    if (end < all.length) {
      return { done: false, entities: this.deferred(entities), cursor: { ...cursor, offset: end } };
    }
    this.progress = new WalkProgress(this.options.logger, cursor.walkId, cursor.startedAt);
    if (!cursor.again) {
      this.options.logger.info(
        `authentik walk ${cursor.walkId}: ${all.length} groups (${index.excludedCount} excluded or skipped)`,
      );
    }
    // The users only need the groups' names: let the entities go for the rest of the walk.
    state.groups = index.namesOnly();
    const users: UsersCursor = {
      phase: 'users',
      walkId: cursor.walkId,
      startedAt: cursor.startedAt,
      page: 1,
      afterPk: 0,
      groups: all.length,
      users: 0,
    };
    if (!this.burstEndsFirst(context)) this.readAhead(users.walkId, 1, undefined, context);
    return { done: false, entities: this.deferred(entities), cursor: users };
  }

  private async emitUsers(
    cursor: Extract<WalkCursor, { phase: 'users' }>,
    context: WalkContext,
  ): Promise<EntityIteratorResult<WalkCursor>> {
    const state = await this.resumeState(cursor, context);
    const pages = this.userWindowPages(cursor, context);
    // The next window's requests go out as this one's are answered, and travel while this
    // one is mapped and the engine stores it.
    const ahead = cursor.page + this.pagesPerWindow();
    if (!this.burstEndsFirst(context)) this.readAhead(cursor.walkId, ahead, pages, context, state.totalPages);
    const scan = scanUserWindow(await pages, cursor);
    // Each page is parsed as the mapping gets to it: a window's users are never all held at once.
    const entities: Entity[] = [];
    const transform = this.options.transformers?.user;
    let sinceYield = 0;
    for (const user of scan.users ?? []) {
      if (++sinceYield === USERS_BETWEEN_YIELDS) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
      const claim = claimName(state.userClaims, userBaseName(user), user.pk, () => userNameSuffixes(user));
      if (claim.collision) this.warnCollision('user', { ...claim.collision, raw: user.username });
      const entity = transform
        ? await mapUser(user, claim.name, state.groups, this.mapping, transform)
        : mapUserByDefault(user, claim.name, state.groups, this.mapping);
      if (entity) entities.push(entity);
    }
    const window = scan.end();
    state.totalPages = window.totalPages;
    this.options.observer?.onPage?.('users', window.requests);
    if (window.nextPage !== ahead || window.done) this.prefetched = undefined; // read ahead for nothing
    if (window.shifted && cursor.previousWindow) {
      this.options.logger.debug(`authentik's user list shifted during walk ${cursor.walkId}; re-reading page ${cursor.previousWindow.page}`);
      const { page, afterPk, users = cursor.users } = cursor.previousWindow;
      const again = { ...cursor, page, afterPk, users, anchorFirstPk: undefined, previousWindow: undefined };
      state.position = { page, afterPk };
      return { done: false, entities: [], cursor: again };
    }

    const moved = window.nextPage > cursor.page;
    const position = {
      page: window.nextPage,
      afterPk: window.afterPk,
      anchorFirstPk: moved ? window.lastPageFirstPk : undefined,
    };

    this.options.observer?.onEntities?.('User', entities.length);

    const next = {
      ...cursor,
      ...position,
      users: cursor.users + entities.length,
      previousWindow: moved ? { page: cursor.page, afterPk: cursor.afterPk, users: cursor.users } : undefined,
    };
    state.position = { page: next.page, afterPk: next.afterPk };
    this.progress?.report(next.users, window.totalPages - next.page + 1, next.page - 1);

    if (!window.done) {
      return { done: false, entities: this.deferred(entities), cursor: next };
    }
    if (next.users === 0) {
      throw next.groups === 0 ? emptyDirectoryError() : noUsersError(next.groups);
    }
    this.options.onUserPagesRead?.(window.totalPages);
    const kept = await this.recheckSwept(entities, state, cursor.walkId, context.signal);
    entities.push(...kept);
    next.users += kept.length;
    const unmarked = entities.map(e => stringifyEntityRef(e));
    try {
      await this.options.removalGuard?.check({ User: next.users, Group: next.groups }, unmarked);
    } catch (error) {
      this.refusedWalkId = cursor.walkId;
      this.state = undefined;
      throw error;
    }
    this.options.logger.info(
      `authentik walk ${cursor.walkId} complete: ${next.users} users, ${next.groups} groups in ${Math.round(
        (Date.now() - cursor.startedAt) / 1000,
      )}s`,
    );
    this.state = undefined;
    await this.options.strandedRepair?.afterWalk(next.users + next.groups, unmarked);
    return { done: true, entities: this.deferred(entities), cursor: next };
  }

  /**
   * The users this walk did not see but whose entities its sweep would remove, read again
   * (`SweepRecheck`): those authentik still holds are mapped as this walk would have, and
   * go in its final batch, so the sweep keeps them.
   */
  private async recheckSwept(entities: Entity[], state: WalkState, walkId: string, signal: AbortSignal): Promise<Entity[]> {
    const recheck = this.options.sweepRecheck;
    if (!recheck) return [];
    const { live, confirmedGone, unchecked } = await recheck.check(new Set(entities.map(e => stringifyEntityRef(e))), signal);
    const kept: Entity[] = [];
    for (const user of live) {
      const claim = claimName(state.userClaims, userBaseName(user), user.pk, userNameSuffixes(user));
      const entity = await mapUser(user, claim.name, state.groups, this.mapping, this.options.transformers?.user);
      if (entity) kept.push(entity);
    }
    if (live.length > 0) {
      this.options.logger.warn(
        `authentik walk ${walkId} did not see ${live.length} user(s) that authentik still holds (the user list moved ` +
          `while it was read): ${live.map(user => user.pk).join(', ')}; kept, not removed`,
      );
    }
    if (confirmedGone > 0 || unchecked > 0) {
      this.options.logger.info(
        `authentik walk ${walkId} removes ${confirmedGone + unchecked} user(s) no longer in authentik's list` +
          (unchecked > 0 ? ` (${confirmedGone} read again and gone, ${unchecked} not read again)` : ' (each read again: gone or inactive)'),
      );
    }
    return kept;
  }

  /**
   * Whether the engine will most likely end this burst after the batch being built (it ends
   * a burst at the first mark past `burstLength`): its next window is then not read ahead,
   * as the next burst would read it again. A prediction: a mark much slower than the
   * previous cycles can still leave one window read for nothing, at most one per burst.
   */
  private burstEndsFirst(context: WalkContext): boolean {
    if (context.startedAt === undefined) return false;
    const now = performance.now();
    const lastCycle = context.previousNextAt === undefined ? 0 : now - context.previousNextAt;
    // Two cycles: the engine's mark of this batch can take longer than the last one did.
    return now - context.startedAt + 2 * lastCycle > durationToMs(this.options.config.incremental.burstLength);
  }

  /** The pages of the window at `cursor`: the ones read ahead for it in this burst, else read now. */
  private userWindowPages(cursor: UsersCursor, context: WalkContext): Promise<UserWindowPages> {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    if (prefetched && prefetched.signal === context.signal && prefetched.walkId === cursor.walkId && prefetched.page === cursor.page) {
      return prefetched.pages.then(pages => pages ?? this.fetchWindowPages(cursor.page, context));
    }
    return this.fetchWindowPages(cursor.page, context);
  }

  /**
   * Starts reading the window at `page` now, for the next `next()` of this burst. Its
   * requests depend on the page number only; what the window means is decided when it is
   * used, against the window before (the anchor check). Its anchor is requested only once
   * every page of the window before has been answered (`anchorAfter`), so that check sees
   * what changed while they were in flight. Past the last page known, it waits for the
   * window before to learn whether there is a next one. A burst that ends first aborts it; a
   * cursor elsewhere (a shift, a rewind, another replica's burst) leaves it unused.
   */
  private readAhead(
    walkId: string,
    page: number,
    before: Promise<UserWindowPages> | undefined,
    context: WalkContext,
    knownTotalPages?: number,
  ): void {
    const prefetched = this.prefetched;
    if (prefetched && prefetched.signal === context.signal && prefetched.walkId === walkId && prefetched.page === page) return;
    // Only when the window before was answered, not what it holds: its pages must not live
    // as long as this window's reads.
    const answered = before?.then(
      () => undefined,
      () => undefined,
    );
    const start = () => this.fetchWindowPages(page, context, answered);
    const pages =
      !before || (knownTotalPages !== undefined && page <= knownTotalPages)
        ? start()
        : before.then(read => (page <= read.totalPages ? start() : undefined));
    pages.catch(() => undefined); // An error surfaces when the window is used, if it is.
    this.prefetched = { walkId, page, signal: context.signal, pages };
  }

  private fetchWindowPages(page: number, context: WalkContext, anchorAfter?: Promise<unknown>): Promise<UserWindowPages> {
    const { incremental } = this.options.config;
    return fetchUserWindowPages(this.options.api, {
      page,
      pageSize: incremental.pageSize,
      concurrency: this.pagesPerWindow(),
      activeOnly: true,
      types: eligibleUserTypes(this.mapping),
      signal: context.signal,
      slots: this.slots,
      anchorAfter,
    });
  }

  /** Why a walk that read no groups fails: an empty directory, or groups hidden from the token. */
  private async noGroupsError(context: WalkContext): Promise<Error> {
    const probe = await this.options.api.listUsers({
      page: 1,
      pageSize: 1,
      activeOnly: true,
      types: eligibleUserTypes(this.mapping),
      signal: context.signal,
    });
    const users = probe?.pagination.count ?? 0;
    return users === 0 ? emptyDirectoryError() : noGroupsError(users);
  }

  /**
   * `2 × concurrency` (read `concurrency + 1` requests at a time, see `slots`), unless a
   * window (plus users re-read from its anchor) would exceed a batch.
   */
  private pagesPerWindow(): number {
    const { concurrency, pageSize } = this.options.config.incremental;
    const { maxBatchSize } = this.options;
    const pages = 2 * concurrency;
    return maxBatchSize ? Math.max(1, Math.min(pages, Math.floor(maxBatchSize / pageSize) - 1)) : pages;
  }

  /** The walk's state with its full group index (read again if only names were kept). */
  private async loadGroupIndex(walkId: string, context: WalkContext): Promise<{ state: WalkState; index: GroupIndex }> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const state = await this.loadGroups(walkId, context);
      if (state.groups instanceof GroupIndex) return { state, index: state.groups };
      this.state = undefined;
    }
    throw new Error('unreachable: a freshly read group index');
  }

  private async loadGroups(walkId: string, context: WalkContext): Promise<WalkState> {
    if (this.state?.walkId === walkId) {
      return this.state;
    }
    const { incremental } = this.options.config;
    const readStartedAt = Date.now();
    const groups = await readAllGroups(this.options.api, {
      pageSize: incremental.pageSize,
      concurrency: incremental.concurrency,
      signal: context.signal,
      slots: this.slots,
    });
    this.options.observer?.onPage?.('groups', Math.max(1, Math.ceil(groups.length / incremental.pageSize)));
    this.options.onGroupsRead?.(groups, readStartedAt);
    const index = await GroupIndex.build(groups, this.mapping, this.options.transformers?.group);
    for (const collision of index.collisions) this.warnCollision('group', collision);
    this.state = { walkId, groups: index, userClaims: new HashedNameClaims(), position: { page: 1, afterPk: 0 } };
    return this.state;
  }

  /**
   * A burst of a walk this process did not start (another replica, a restart): rebuild the
   * group index and the name claims of the users already walked, so names stay the same.
   */
  private async resumeState(
    cursor: Extract<WalkCursor, { phase: 'users' }>,
    context: WalkContext,
  ): Promise<WalkState> {
    const known = this.state;
    if (known?.walkId === cursor.walkId && known.position.page === cursor.page && known.position.afterPk === cursor.afterPk) {
      return known;
    }
    this.options.logger.info(`Resuming authentik walk ${cursor.walkId} at page ${cursor.page}`);
    if (known?.walkId === cursor.walkId) {
      // This process walked part of this walk, but the cursor moved on elsewhere (another
      // replica's bursts): its name claims miss those users. Start the claims over.
      this.state = undefined;
    }
    const state = await this.loadGroups(cursor.walkId, context);
    if (state.groups instanceof GroupIndex) state.groups = state.groups.namesOnly();
    const { incremental } = this.options.config;
    let page = 1;
    let afterPk = 0;
    while (afterPk < cursor.afterPk) {
      const window = await readUserWindow(this.options.api, {
        page,
        afterPk,
        pageSize: incremental.pageSize,
        concurrency: incremental.concurrency,
        activeOnly: true,
        types: eligibleUserTypes(this.mapping),
        signal: context.signal,
      });
      for (const user of window.users) {
        if (user.pk > cursor.afterPk) break;
        claimName(state.userClaims, userBaseName(user), user.pk, () => userNameSuffixes(user));
      }
      if (window.done) break;
      page = window.nextPage;
      afterPk = window.afterPk;
    }
    this.progress = new WalkProgress(this.options.logger, cursor.walkId, cursor.startedAt);
    return state;
  }

  private parseCursor(raw: unknown): WalkCursor {
    const parsed = walkCursorSchema.safeParse(raw);
    if (!parsed.success) {
      // A cursor from another release: start over rather than fail forever.
      this.options.logger.warn(`Ignoring an unreadable authentik walk cursor; starting a new walk`);
      return { phase: 'groups', walkId: randomUUID(), startedAt: Date.now() };
    }
    return parsed.data;
  }

  private deferred(entities: Entity[]): DeferredEntity[] {
    const locationKey = this.getProviderName();
    // Filled, not a literal (see `defaultUserEntity`): these live until the engine is done.
    return entities.map(entity => {
      const deferred = {} as DeferredEntity;
      deferred.entity = entity;
      deferred.locationKey = locationKey;
      return deferred;
    });
  }

  private warnCollision(kind: 'user' | 'group', collision: NameCollision): void {
    this.options.logger.warn(
      `authentik ${kind}s ${collision.keptBy} and ${collision.renamed} both map to the entity name ` +
        `"${collision.name}"; ${kind} ${collision.renamed}${collision.raw ? ` ("${collision.raw}")` : ''} ` +
        `is named "${collision.assigned}"`,
    );
  }
}

type UsersCursor = Extract<WalkCursor, { phase: 'users' }>;

function noGroupsError(users: number): Error {
  return new Error(
    `authentik listed no groups while it lists ${users} users: the walk is refused and nothing is removed. ` +
      'The token most likely lacks authentik_core.view_group (an internal service account token sees empty ' +
      'lists): use a token whose user holds authentik_core.view_user and authentik_core.view_group.',
  );
}

function noUsersError(groups: number): Error {
  return new Error(
    `authentik listed no users while it lists ${groups} groups: the walk is refused and nothing is removed. ` +
      'The token most likely lacks authentik_core.view_user: use a token whose user holds ' +
      'authentik_core.view_user and authentik_core.view_group.',
  );
}

function emptyDirectoryError(): Error {
  return new Error(
    'authentik listed no users and no groups. An internal service account token sees an empty ' +
      'directory: use a token whose user holds authentik_core.view_user and authentik_core.view_group.',
  );
}
