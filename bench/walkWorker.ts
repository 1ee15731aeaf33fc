/**
 * One measured full walk, in its own process (spawned by `walk.bench.ts` as
 * `node --expose-gc --import tsx bench/walkWorker.ts '<json input>'`).
 *
 * Drives the provider exactly as the incremental engine's burst does —
 * `around(ctx => next(ctx, cursor) … until done)` — against an authentik served by ANOTHER
 * process, counts the emitted entities and drops them (the engine hands them to the
 * database), samples RSS every `sampleMs`, and prints one JSON line on stdout.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { DeferredEntity } from '@backstage/plugin-catalog-node';
import { AuthentikClient } from '../src/client/AuthentikClient';
import { ConfigReader } from '@backstage/config';
import { AuthentikInstanceConfig, readAuthentikConfigs } from '../src/config';
import { AuthentikEntityProvider } from '../src/incremental/AuthentikEntityProvider';
import type { WalkCursor } from '../src/incremental/cursor';
import { ANNOTATION_USER_PK } from '../src/mapping/types';
import { getHeapSpaceStatistics } from 'node:v8';
import type { MemoryComposition, WalkWorkerInput, WalkWorkerResult } from './walkProtocol';

/** The instance config as a user would write it, read by the module's own config reader. */
function benchConfig(input: WalkWorkerInput): AuthentikInstanceConfig {
  const [config] = readAuthentikConfigs(
    new ConfigReader({
      catalog: {
        providers: {
          authentik: {
            baseUrl: input.baseUrl,
            token: input.token,
            schedule: { initialDelay: { seconds: 0 } },
            incremental: { pageSize: input.pageSize, concurrency: input.concurrency },
          },
        },
      },
    }),
  );
  return config;
}

/** Drops info/debug (the walk's progress lines), counts warnings and errors. */
class CountingLogger implements LoggerService {
  warnings = 0;
  readonly first: string[] = [];
  error(message: string): void {
    this.note(`error: ${message}`);
  }
  warn(message: string): void {
    this.note(`warn: ${message}`);
  }
  info(): void {}
  debug(): void {}
  child(): LoggerService {
    return this;
  }
  private note(line: string): void {
    this.warnings += 1;
    if (this.first.length < 5) this.first.push(line);
  }
}

/** The parts of the RSS now (reads V8's heap statistics: ~0.5 ms). */
function memoryComposition(): MemoryComposition {
  const usage = process.memoryUsage();
  let youngGeneration = 0;
  let oldGeneration = 0;
  let otherHeapSpaces = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') youngGeneration += space.space_size;
    else if (space.space_name === 'old_space') oldGeneration += space.space_size;
    else otherHeapSpaces += space.space_size;
  }
  const heap = youngGeneration + oldGeneration + otherHeapSpaces;
  return {
    rss: usage.rss,
    youngGeneration,
    oldGeneration,
    otherHeapSpaces,
    arrayBuffers: usage.arrayBuffers,
    rest: usage.rss - heap - usage.arrayBuffers,
  };
}

/** The composition is read again only when the RSS passed the last reading by this much. */
const COMPOSITION_STEP = 2 * 1024 * 1024;

class RssSampler {
  rssPeak = 0;
  /** Read at a sampled RSS within COMPOSITION_STEP of the sampled peak. */
  peakComposition?: MemoryComposition;
  heapPeak = 0;
  heapTotalPeak = 0;
  externalPeak = 0;
  samples = 0;
  maxGapMs = 0;
  private last = performance.now();
  private timer?: NodeJS.Timeout;

  constructor(private readonly periodMs: number) {}

  start(): void {
    this.last = performance.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.periodMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }

  private sample(): void {
    const now = performance.now();
    this.maxGapMs = Math.max(this.maxGapMs, now - this.last);
    this.last = now;
    // `process.memoryUsage.rss()` is `process.memoryUsage().rss` without the V8 heap
    // statistics, which cost ~0.4 ms a call (2% of the walk's CPU at 50 Hz): those are
    // read every 5th sample only.
    const rss = process.memoryUsage.rss();
    if (rss > this.rssPeak) this.rssPeak = rss;
    if (rss > (this.peakComposition?.rss ?? 0) + COMPOSITION_STEP) this.peakComposition = memoryComposition();
    if (this.samples % 5 === 0) {
      const usage = process.memoryUsage();
      if (usage.heapUsed > this.heapPeak) this.heapPeak = usage.heapUsed;
      if (usage.heapTotal > this.heapTotalPeak) this.heapTotalPeak = usage.heapTotal;
      if (usage.external > this.externalPeak) this.externalPeak = usage.external;
    }
    this.samples += 1;
  }
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

async function main(input: WalkWorkerInput): Promise<WalkWorkerResult> {
  let requests = 0;
  let notFound = 0;
  let otherFailures = 0;
  const api = new AuthentikClient({
    baseUrl: input.baseUrl,
    token: input.token,
    onRequest: ({ status }) => {
      requests += 1;
      if (status === 404) notFound += 1;
      else if (status === undefined || status < 200 || status >= 300) otherFailures += 1;
    },
  });
  const logger = new CountingLogger();
  const provider = new AuthentikEntityProvider({ config: benchConfig(input), api, logger });

  // Counted, checked for duplicates without keeping them (a bitmap by pk), then dropped.
  const seenUsers = new Uint8Array(input.maxUserPk + 1);
  let seenGroupNames: Set<string> | undefined = new Set();
  let users = 0;
  let groups = 0;
  let userPkSum = 0;
  let duplicateUsers = 0;
  let duplicateGroupNames = 0;
  const count = (entities: DeferredEntity[]) => {
    for (const { entity } of entities) {
      if (entity.kind === 'User') {
        users += 1;
        const pk = Number(entity.metadata.annotations?.[ANNOTATION_USER_PK]);
        userPkSum += pk;
        if (pk >= 0 && pk < seenUsers.length) {
          if (seenUsers[pk]) duplicateUsers += 1;
          seenUsers[pk] = 1;
        } else {
          duplicateUsers += 1; // a pk that cannot exist: counted as wrong
        }
      } else if (entity.kind === 'Group') {
        groups += 1;
        if (seenGroupNames?.has(entity.metadata.name)) duplicateGroupNames += 1;
        seenGroupNames?.add(entity.metadata.name);
      }
    }
  };

  fullGc();
  const baseline = process.memoryUsage();
  const baselineComposition = memoryComposition();
  const sampler = new RssSampler(input.sampleMs);
  sampler.start();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let groupsPhaseMs = 0;
  let nextCalls = 0;
  try {
    await provider.around(async context => {
      let result = await provider.next(context, undefined);
      nextCalls += 1;
      for (;;) {
        count(result.entities ?? []);
        const cursor = result.cursor as WalkCursor | undefined;
        if (!groupsPhaseMs && cursor?.phase === 'users') {
          groupsPhaseMs = performance.now() - started;
          seenGroupNames = undefined; // groups are emitted in one batch
        }
        if (result.done) break;
        result = await provider.next(context, result.cursor);
        nextCalls += 1;
      }
    });
  } catch (error) {
    sampler.stop();
    return {
      ok: false,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      wallMs: performance.now() - started,
      requests,
      users,
      groups,
    };
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  sampler.stop();
  const maxRss = process.resourceUsage().maxRSS * 1024; // kilobytes on every platform
  fullGc();
  const after = process.memoryUsage();

  return {
    ok: true,
    wallMs,
    groupsPhaseMs,
    requests,
    notFound,
    otherFailures,
    nextCalls,
    users,
    groups,
    userPkSum,
    duplicateUsers,
    duplicateGroupNames,
    warnings: logger.warnings,
    firstWarnings: logger.first,
    memory: {
      rssBaseline: baseline.rss,
      heapBaseline: baseline.heapUsed,
      rssPeakSampled: sampler.rssPeak,
      heapUsedPeakSampled: sampler.heapPeak,
      heapTotalPeakSampled: sampler.heapTotalPeak,
      externalPeakSampled: sampler.externalPeak,
      maxRss,
      rssAfterGc: after.rss,
      heapAfterGc: after.heapUsed,
      samples: sampler.samples,
      maxSampleGapMs: sampler.maxGapMs,
      composition: { baseline: baselineComposition, peak: sampler.peakComposition ?? baselineComposition },
    },
    cpu: { userMs: cpu.user / 1000, systemMs: cpu.system / 1000 },
  };
}

function emit(result: WalkWorkerResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(result.ok ? 0 : 1));
}

const raw = process.argv[2];
if (!raw) {
  process.stderr.write('usage: node --expose-gc --import tsx bench/walkWorker.ts \'<WalkWorkerInput JSON>\'\n');
  process.exit(2);
}
main(JSON.parse(raw) as WalkWorkerInput).then(emit, error =>
  emit({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
