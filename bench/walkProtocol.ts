/**
 * What `walk.bench.ts` hands to `walkWorker.ts` (one JSON argument) and what the worker
 * prints back (one JSON line on stdout).
 */

export interface WalkWorkerInput {
  /** Root URL of the demo authentik (no trailing slash). */
  baseUrl: string;
  token: string;
  pageSize: number;
  concurrency: number;
  /** RSS sampling period. */
  sampleMs: number;
  /** Highest user pk that may be emitted (sizes the duplicate-detection bitmap). */
  maxUserPk: number;
}

export interface WalkWorkerSuccess {
  ok: true;
  /** From the first `next()` to the `done` result, inside `around()`. */
  wallMs: number;
  /** Until the cursor entered the `users` phase (start + group read + group emission). */
  groupsPhaseMs: number;
  /** HTTP requests as counted by the client's `onRequest` (every attempt, retries included). */
  requests: number;
  /** Requests answered 404 (`Invalid page.` past the end of a list). */
  notFound: number;
  /** Retried or failed requests (network errors, 429, 5xx, other non-2xx but 404). */
  otherFailures: number;
  nextCalls: number;
  users: number;
  groups: number;
  /** Sum of the emitted users' pks (compared with the directory's eligible users). */
  userPkSum: number;
  duplicateUsers: number;
  duplicateGroupNames: number;
  warnings: number;
  firstWarnings: string[];
  memory: {
    /** After imports and a full GC, before the walk. */
    rssBaseline: number;
    heapBaseline: number;
    /** Highest `process.memoryUsage().rss` sampled during the walk. */
    rssPeakSampled: number;
    heapUsedPeakSampled: number;
    heapTotalPeakSampled: number;
    /** Highest `external` (Buffers and other off-heap memory V8 knows of) sampled. */
    externalPeakSampled: number;
    /** `process.resourceUsage().maxRSS` at the end (kernel high-water mark, whole process life). */
    maxRss: number;
    /** After the walk and a full GC: what the provider still holds. */
    rssAfterGc: number;
    heapAfterGc: number;
    samples: number;
    maxSampleGapMs: number;
    /** What the RSS was made of before the walk, and near its sampled peak. */
    composition: { baseline: MemoryComposition; peak: MemoryComposition };
  };
  cpu: { userMs: number; systemMs: number };
}

/**
 * The parts of a process's RSS, in bytes: V8's young and old generations (committed), its
 * other spaces (code, large objects, read-only), array buffers (Node Buffers: response
 * bodies, typed arrays) and the rest (native allocations, thread stacks, binary pages).
 */
export interface MemoryComposition {
  rss: number;
  youngGeneration: number;
  oldGeneration: number;
  otherHeapSpaces: number;
  arrayBuffers: number;
  rest: number;
}

export interface WalkWorkerFailure {
  ok: false;
  error: string;
  wallMs?: number;
  requests?: number;
  users?: number;
  groups?: number;
}

export type WalkWorkerResult = WalkWorkerSuccess | WalkWorkerFailure;
