/**
 * Webhook benchmark:
 *   npm run bench:events [-- --users N --groups N --database sqlite|postgres --per-kind N --burst N --poll-ms N --concurrency N --seed N]
 *   e.g. npm run bench:events -- --users 100000 --groups 5000
 *
 * This process serves the demo authentik (seeded directory + 20 teams + ~1,100 generated
 * active users) and sends its webhooks; a REAL Backstage backend (`bench/events/backend.ts`:
 * createBackend + catalog + incremental ingestion + events + this package, configured from
 * dev/app-config.yaml on a free port, initialDelay 0, a 24 h walk frequency) runs in a child
 * process. After the first full walk has landed in the catalog:
 *
 * 1. Latency. Changes of 7 kinds, one at a time, in two passes: webhooks in the mapping body
 *    form, then in authentik's default (python-repr) body form. Each latency runs from the
 *    moment the webhook is POSTed (the demo's dispatcher is called synchronously by the
 *    directory mutation, and its fetch starts there) until the change is visible through
 *    `GET /api/catalog/entities/by-name/...` with the static token (polled every --poll-ms).
 *    authentik API calls per change: the demo's request counter, before → after.
 * 2. Burst. 1,000 users renamed (display name) in a tight loop, each sending its webhook at
 *    once; authentik API calls until all 1,000 are visible, and the time that takes (polled
 *    every 250 ms with `POST /entities/by-refs` for the users not seen yet).
 *
 * Differences from the dev config (all printed at the start):
 * - `--database`: SQLite in memory (the dev config's) below 20,000 users, else PostgreSQL on
 *   127.0.0.1:5432 (user postgres, trust; `BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING`
 *   overrides it, as for the tests): fresh databases `backstage_bench_<pid>_<plugin>`, dropped
 *   at the end (also on Ctrl-C), `synchronous_commit=off` (throwaway data).
 * - `incremental.concurrency` 4 on SQLite (`--concurrency`). With the default 8, a walk window
 *   is 8 pages × 100 users, which the incremental engine records in ONE multi-row insert into
 *   `ingestion_mark_entities`; SQLite refuses more than 500 rows ("too many terms in compound
 *   SELECT"), so the first walk never completes beyond ~500 users. PostgreSQL keeps the
 *   module default (8).
 * - `catalog.processingInterval` 30 min (2 h on PostgreSQL): Backstage re-processes every
 *   entity every 100–150 s by default, which a 100k catalog on this machine can never keep up
 *   with, and a changed entity waits behind every overdue one (the processing loop takes the
 *   oldest first). On PostgreSQL (≥ 20,000 users) the run outlasts 30 min (31 min at 100,000
 *   users): the catalog re-processes an entity 30–45 min after it last took it, so the first
 *   walk's 105,000 entities (taken in its first ~10 min) come due again from minute 30 on,
 *   ~15 a second at first, ~80 a second 7 min later: during the burst, and a longer run's
 *   latency rounds.
 * - PostgreSQL statistics: when the server's autovacuum is off (as on the development machine),
 *   the bench runs `ANALYZE` on the catalog database every 60 s while the first walk lands and
 *   once when it has landed, as autovacuum would. Without it the planner keeps the statistics of
 *   the empty tables (rows=1 for everything) and drives a filtered query from the wrong index:
 *   the module's `kind=User,…user-pk=N` lookup scanned every User row (1.2 s at 34,000 users;
 *   0.3 ms analysed), and a burst of 1,000 user updates spent 86 s on 982 of them.
 *
 * "Landed": on PostgreSQL the bench reads the catalog's own queues (nothing due for processing
 * or stitching) and prints the catalog's pace while it waits; on SQLite in memory it counts
 * entities through the API and waits 3 s more. At 100,000 users the catalog's per-entity
 * processing and stitching dominate the run (see README, Performance).

 * A passive probe in the backend (events subscriber, IPC) timestamps the webhook's arrival
 * and the delta's publication, for the breakdown only.
 *
 * Exit codes: 0 all visible and targets met; 1 a change never became visible within 30 s
 * (+1.5 s per 1,000 generated users) (or the bench failed); 2 everything visible but an acceptance target failed.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { freePort } from './freePort';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DemoAuthentik, startDemoAuthentik, WebhookDispatcher } from '../dev/demo-authentik';
import type { ChangeDescription } from '../dev/demo-authentik';
import { DEMO_TOKEN, DEMO_WEBHOOK_SECRET, DEV_CATALOG_TOKEN } from '../dev/demoDefaults';
import { dropDatabasesWithPrefix, isPostgresAvailable, postgresAddress, postgresConnection } from '../test/harness/postgres';
import { CatalogHttp, displayNameOf } from './events/catalog';
import { CatalogQueues, QueueCounts } from './events/queues';
import type { ProbeDeltaMessage, ProbeMessage, ProbeWebhookMessage } from './events/protocol';
import { buildBenchDirectory, eligibleUserCount, Kind, KINDS, ScenarioState } from './events/scenario';
import { markdownTable, max, mean, num, percentile, secs, textTable } from './events/stats';

const ROOT = path.resolve(__dirname, '..');
const BACKEND = path.join(__dirname, 'events', 'backend.ts');
const DEV_CONFIG = path.join(ROOT, 'dev', 'app-config.yaml');
const PROVIDER = 'authentik:default';
/**
 * How long a change may take to become visible: 30 s, plus 1.5 s per 1,000 generated users. A
 * rename of a seeded group re-emits every member (~3 % of the generated users each), and the
 * catalog processes and stitches each of them (about 50–150 entities/s on this machine).
 */
const visibleTimeoutMs = (users: number) => 30_000 + Math.round(1.5 * users);
const BURST_OBSERVE_MS = 120_000;
/** Burst polling period (each poll asks for every user not seen yet). */
const BURST_POLL_MS = 250;
/** Backend start and first walk; a large directory gets longer (its walk is measured by `npm run bench`). */
const startupTimeoutMs = (users: number) => 240_000 + 30 * users;
const TARGET_P95_MS = 2_000;
/**
 * After a change is visible, how long authentik must see no request before its cost is
 * counted: the handler's confirmation read comes 3 s after the delta (AuthentikEventHandler).
 */
const CONFIRMATION_SETTLE_MS = 4_000;
const COMMAND = 'npm run bench:events';

// ---- flags ------------------------------------------------------------------------------

type Database = 'sqlite' | 'postgres';

/** From this many generated users on, the backend's catalog is PostgreSQL unless --database says otherwise. */
const POSTGRES_FROM_USERS = 20_000;

interface Flags {
  /** The backend's catalog database. */
  database: Database;
  /** Whether --database was given (else chosen from --users). */
  databaseChosen: boolean;
  /** `incremental.concurrency` of the backend; 0 = the module default. */
  concurrency: number;
  /** `catalog.stitchingStrategy.pollingInterval` in ms; undefined/0 = Backstage's default (1 s). */
  stitchPollMs?: number;
  /** `catalog.processingInterval` in s; 0 = Backstage's default (100–150 s). */
  processingIntervalS: number;
  perKind: number;
  extraUsers: number;
  /** "Bench Team NN" groups added to the seed. */
  groups: number;
  burst: number;
  pollMs: number;
  seed: number;
}

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(
    'usage: npm run bench:events -- [--users N] [--groups N] [--database sqlite|postgres] [--per-kind N] [--burst N] [--poll-ms N] [--concurrency N] [--seed N]\n' +
      '  --per-kind     changes of each of the 7 kinds per body form (default 8: 112 changes)\n' +
      '  --users        generated active users added to the seed (default burst + 100; alias --extra-users)\n' +
      '  --groups       generated "Bench Team" groups added to the seed (default 20)\n' +
      '  --burst        users changed at once in the burst (default 1000)\n' +
      '  --poll-ms      catalog polling period while waiting for a change (default 25, 25..50)\n' +
      `  --database     the backend's catalog database: sqlite (in memory, as in dev/app-config.yaml) or postgres\n` +
      `                 (a fresh database on 127.0.0.1:5432, user postgres, dropped at the end); default postgres\n` +
      `                 from ${POSTGRES_FROM_USERS.toLocaleString('en-US')} users on, else sqlite\n` +
      '  --stitch-poll-ms  catalog.stitchingStrategy.pollingInterval (default and 0: Backstage\'s 1 s)\n' +
      '  --processing-interval-s  catalog.processingInterval (default 1800, on postgres 7200; 0 = Backstage\'s 100–150 s)\n' +
      '  --concurrency  incremental.concurrency of the backend (default on sqlite 4: walk windows of ≤ 500 entities,\n' +
      '                 which the engine can insert on SQLite; on postgres the module default, 8; 0 = the module default)\n',
  );
  process.exit(2);
}

function parseFlags(argv: string[]): Flags {
  const values = new Map<string, number>();
  let database: Database | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') usage();
    const db = /^--database(?:=(.*))?$/.exec(arg);
    if (db) {
      const raw = db[1] ?? argv[++i];
      if (raw !== 'sqlite' && raw !== 'postgres') usage('--database must be sqlite or postgres');
      database = raw;
      continue;
    }
    const match = /^--(per-kind|extra-users|users|groups|burst|poll-ms|seed|concurrency|stitch-poll-ms|processing-interval-s)(?:=(.*))?$/.exec(arg);
    if (!match) usage(`unknown argument: ${arg}`);
    const raw = match[2] ?? argv[++i];
    const value = Number(raw?.replace(/_/g, ''));
    if (raw === undefined || !Number.isInteger(value) || value < 0) usage(`--${match[1]} needs a whole number`);
    values.set(match[1] === 'users' ? 'extra-users' : match[1], value);
  }
  const burst = values.get('burst') ?? 1000;
  const extraUsers = values.get('extra-users') ?? burst + 100;
  const chosen: Database = database ?? (extraUsers >= POSTGRES_FROM_USERS ? 'postgres' : 'sqlite');
  const flags: Flags = {
    database: chosen,
    databaseChosen: database !== undefined,
    // SQLite refuses the engine's inserts of more than 500 marks (see the header): 4 pages of 100.
    concurrency: values.get('concurrency') ?? (chosen === 'sqlite' ? 4 : 0),
    perKind: values.get('per-kind') ?? 8,
    burst,
    extraUsers,
    groups: values.get('groups') ?? 20,
    pollMs: values.get('poll-ms') ?? 25,
    stitchPollMs: values.get('stitch-poll-ms') || undefined,
    // Longer on PostgreSQL: the run must end before the first walk's entities come due again.
    processingIntervalS: values.get('processing-interval-s') ?? (chosen === 'postgres' ? 7200 : 1800),
    seed: values.get('seed') ?? 7,
  };
  if (flags.perKind < 1) usage('--per-kind must be at least 1');
  if (flags.pollMs < 5) usage('--poll-ms must be at least 5');
  // Each pass removes up to 2 users per round; the burst needs `burst` users left.
  if (flags.extraUsers < flags.burst + 4 * flags.perKind) {
    usage(`--extra-users must be at least burst + 4 × per-kind (${flags.burst + 4 * flags.perKind})`);
  }
  return flags;
}

// ---- the backend child ------------------------------------------------------------------

interface BackendSettings {
  port: number;
  demoUrl: string;
  database: Database;
  /** With postgres: the prefix of this run's databases (one per plugin), dropped at the end. */
  databasePrefix?: string;
  /** `incremental.concurrency`; undefined keeps the module's default (8). */
  concurrency?: number;
  stitchPollMs?: number;
  processingIntervalS: number;
}

/** dev/app-config.yaml with the bench's differences (port, schedule); `${…}` left for the loader. */
function benchConfig(settings: BackendSettings): { config: Record<string, any>; differences: string[] } {
  const config = parseYaml(readFileSync(DEV_CONFIG, 'utf8')) as Record<string, any>;
  const baseUrl = `http://localhost:${settings.port}`;
  config.backend.baseUrl = baseUrl;
  config.backend.listen = { port: settings.port };
  const provider = config.catalog.providers.authentik;
  provider.schedule.frequency = { hours: 24 };
  provider.schedule.initialDelay = { seconds: 0 };
  const differences = [
    `backend.baseUrl: ${baseUrl}, backend.listen.port: ${settings.port}`,
    'catalog.providers.authentik.schedule.frequency: { hours: 24 } (no full walk during the measurements)',
    'catalog.providers.authentik.schedule.initialDelay: { seconds: 0 }',
  ];
  if (settings.database === 'postgres') {
    // One database per plugin (Backstage's default division), all named after this run.
    config.backend.database = {
      client: 'pg',
      // A throwaway database: commits need not wait for the WAL's fsync (3 ms each on this
      // machine's disk; the catalog commits ~10 times per entity it processes and stitches).
      connection: { ...postgresConnection(), options: '-c synchronous_commit=off' },
      prefix: settings.databasePrefix,
      pluginDivisionMode: 'database',
    };
    differences.push(
      `backend.database: PostgreSQL at ${postgresAddress()} (user ${postgresConnection().user}), ` +
        `fresh databases ${settings.databasePrefix}<plugin>, dropped at the end; synchronous_commit=off ` +
        `(throwaway data; each catalog commit would otherwise wait for a WAL fsync)`,
    );
  }
  if (settings.stitchPollMs !== undefined) {
    config.catalog.stitchingStrategy = { pollingInterval: { milliseconds: settings.stitchPollMs } };
    differences.push(`catalog.stitchingStrategy.pollingInterval: { milliseconds: ${settings.stitchPollMs} } (default 1 s)`);
  }
  if (settings.processingIntervalS > 0) {
    // Backstage re-processes every entity every 100–150 s by default. While a large first
    // walk is still being processed that doubles the work, and afterwards a changed entity
    // (due "now") waits behind every entity already overdue (the loop takes the oldest first).
    config.catalog.processingInterval = { seconds: settings.processingIntervalS };
    differences.push(
      `catalog.processingInterval: { seconds: ${settings.processingIntervalS} } (default 100–150 s: the periodic ` +
        're-processing of every entity competes with the changes measured; --processing-interval-s 0 keeps the default)',
    );
  }
  if (settings.concurrency !== undefined) {
    provider.incremental = { ...provider.incremental, concurrency: settings.concurrency };
    differences.push(
      `catalog.providers.authentik.incremental.concurrency: ${settings.concurrency} (default 8: a window of 8 × 100 users ` +
        `is one engine insert of 800 rows, which SQLite refuses — "too many terms in compound SELECT", limit 500)`,
    );
  }
  return { config, differences };
}

interface Backend {
  child: ChildProcess;
  baseUrl: string;
  logFile: string;
  probe: ProbeMessage[];
  exited?: string;
  stop(): Promise<void>;
}

function startBackend(settings: BackendSettings, workDir: string, config: Record<string, any>): Backend {
  const configFile = path.join(workDir, 'app-config.bench.yaml');
  writeFileSync(configFile, stringifyYaml(config));
  const logFile = path.join(workDir, 'backend.log');
  const logFd = openSync(logFile, 'w');
  // BENCH_BACKEND_NODE_ARGS: extra node flags for the backend only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  // (the profile is written when the bench stops the backend).
  const nodeArgs = (process.env.BENCH_BACKEND_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', BACKEND, '--config', configFile], {
    cwd: ROOT,
    env: {
      ...process.env,
      AUTHENTIK_URL: settings.demoUrl,
      AUTHENTIK_TOKEN: DEMO_TOKEN,
      AUTHENTIK_WEBHOOK_SECRET: DEMO_WEBHOOK_SECRET,
      BENCH_PROBE: '1',
    },
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  closeSync(logFd);
  const backend: Backend = {
    child,
    baseUrl: `http://127.0.0.1:${settings.port}`,
    logFile,
    probe: [],
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  child.on('message', message => backend.probe.push(message as ProbeMessage));
  child.once('exit', (code, signal) => {
    backend.exited = `backend exited (${signal ?? `code ${code}`}); see ${logFile}`;
  });
  return backend;
}

/** Thrown by a `waitUntil` check to stop waiting at once. */
class FatalError extends Error {}

async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  intervalMs: number,
  check: () => Promise<T | undefined | false>,
  backend?: Backend,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (backend?.exited) throw new Error(backend.exited);
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      if (error instanceof FatalError) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? ` (${String(lastError)})` : ''}`);
    }
    await delay(intervalMs);
  }
}

// ---- phases and progress ----------------------------------------------------------------

function loadAverage(): string {
  return os.loadavg().map(l => l.toFixed(2)).join(', ');
}

/** Wall time of each phase of the run, printed as it ends and again in the summary. */
class Phases {
  readonly rows: Array<{ name: string; ms: number; load: string }> = [];
  private last = performance.now();
  private readonly first = this.last;

  end(name: string): void {
    const now = performance.now();
    const row = { name, ms: now - this.last, load: loadAverage() };
    this.rows.push(row);
    this.last = now;
    console.log(`[phase] ${name}: ${secs(row.ms)} (load average ${row.load})`);
  }

  total(): number {
    return this.last - this.first;
  }
}

/** A progress line every 15 s while the first walk lands (a 100k run takes minutes). */
class Progress {
  private lastAt = performance.now();
  private readonly startedAt = this.lastAt;
  /** (time, final entities) of the previous report, for the rate. */
  private previous?: { at: number; final: number };

  constructor(
    private readonly queues: CatalogQueues | undefined,
    private readonly catalog: CatalogHttp,
    private readonly expected: number,
  ) {}

  async maybeReport(stage: string, known?: QueueCounts): Promise<void> {
    if (performance.now() - this.lastAt < 15_000) return;
    this.lastAt = performance.now();
    const elapsed = secs(this.lastAt - this.startedAt);
    if (this.queues) {
      const q = known ?? (await this.queues.read().catch(() => undefined));
      if (q) {
        // The catalog's pace (Backstage's processing + stitching, one entity at a time), and when
        // the first walk would be in at that pace.
        let pace = '';
        if (this.previous && q.final > this.previous.final) {
          const perSecond = ((q.final - this.previous.final) * 1000) / (this.lastAt - this.previous.at);
          const etaMin = (this.expected - q.final) / perSecond / 60;
          pace = `; ${perSecond.toFixed(0)} entities/s → all in ~${etaMin.toFixed(0)} min at this pace`;
        }
        this.previous = { at: this.lastAt, final: q.final };
        console.log(
          `  … ${elapsed} ${stage}: ${q.final}/${this.expected} entities final, ` +
            `${q.processingDue} due for processing, ${q.stitchDue} for stitching${pace} (load average ${loadAverage()})`,
        );
        return;
      }
    }
    const [users, groups] = await Promise.all([this.catalog.count('kind=user'), this.catalog.count('kind=group')]).catch(() => [NaN, NaN]);
    console.log(`  … ${elapsed} ${stage}: ${users + groups}/${this.expected} entities in the catalog (load average ${loadAverage()})`);
  }
}

// ---- webhooks -----------------------------------------------------------------------------

/**
 * The demo's webhook sender (notification rule + generic webhook transport), one per body
 * form, switched between passes. `onChange` is called synchronously by every directory
 * mutation; the dispatcher's `fetch` starts inside `notify`, so `lastSentAt` is the moment
 * the webhook is POSTed.
 */
class WebhookSender {
  private readonly dispatchers: Record<'mapping' | 'default', WebhookDispatcher>;
  active?: 'mapping' | 'default';
  lastSentAt = 0;
  lastSentWall = 0;
  sent = 0;

  constructor(url: string) {
    const options = { url, secret: DEMO_WEBHOOK_SECRET };
    this.dispatchers = {
      mapping: new WebhookDispatcher({ ...options, bodyForm: 'mapping' }),
      default: new WebhookDispatcher({ ...options, bodyForm: 'default' }),
    };
  }

  onChange(change: ChangeDescription): void {
    if (!this.active) return;
    this.lastSentWall = Date.now();
    this.lastSentAt = performance.now();
    this.sent += 1;
    this.dispatchers[this.active].notify(change);
  }

  async idle(): Promise<void> {
    await Promise.all([this.dispatchers.mapping.idle(), this.dispatchers.default.idle()]);
  }

  stats() {
    const sum = { sent: 0, failed: 0, retried: 0 };
    for (const d of Object.values(this.dispatchers)) {
      sum.sent += d.stats.sent;
      sum.failed += d.stats.failed;
      sum.retried += d.stats.retried;
    }
    return sum;
  }

  close(): void {
    this.dispatchers.mapping.close();
    this.dispatchers.default.close();
  }
}

// ---- latency --------------------------------------------------------------------------------

interface LatencySample {
  form: 'mapping' | 'default';
  kind: Kind;
  label: string;
  visible: boolean;
  latencyMs: number;
  apiCalls: number;
  /** Including the confirmation read that follows a few seconds later. */
  apiCallsSettled: number;
  /** Breakdown from the probe (undefined when the probe saw nothing). */
  receivedMs?: number;
  deltaMs?: number;
}

async function measureLatency(
  form: 'mapping' | 'default',
  flags: Flags,
  state: ScenarioState,
  demo: DemoAuthentik,
  sender: WebhookSender,
  backend: Backend,
  random: () => number,
): Promise<LatencySample[]> {
  sender.active = form;
  const samples: LatencySample[] = [];
  const total = flags.perKind * KINDS.length;
  for (let round = 0; round < flags.perKind; round += 1) {
    // Every kind once per round, in a shuffled order.
    const order = [...KINDS].sort(() => random() - 0.5);
    for (const kind of order) {
      if (backend.exited) throw new Error(backend.exited);
      const change = state.prepare(kind, form);
      const requestsBefore = demo.requests;
      const probeFrom = backend.probe.length;
      change.mutate(); // sends the webhook
      const sentAt = sender.lastSentAt;
      const sentWall = sender.lastSentWall;
      let visible = false;
      let visibleAt = Number.NaN;
      const deadline = sentAt + visibleTimeoutMs(flags.extraUsers);
      while (performance.now() < deadline) {
        if (await change.visible().catch(() => false)) {
          visibleAt = performance.now();
          visible = true;
          break;
        }
        await delay(flags.pollMs);
      }
      await sender.idle();
      if (visible) change.commit();
      const apiCalls = demo.requests - requestsBefore;
      await settle(demo);
      await delay(20); // let the probe's IPC messages in
      const probe = backend.probe.slice(probeFrom);
      const received = probe.find((m): m is ProbeWebhookMessage => m.type === 'webhook');
      const deltaMsg = probe.find((m): m is ProbeDeltaMessage => m.type === 'delta');
      const sample: LatencySample = {
        form,
        kind,
        label: change.label,
        visible,
        latencyMs: visibleAt - sentAt,
        apiCalls,
        apiCallsSettled: demo.requests - requestsBefore,
        receivedMs: received ? received.at - sentWall : undefined,
        deltaMs: deltaMsg ? deltaMsg.at - sentWall : undefined,
      };
      samples.push(sample);
      const n = samples.length;
      const status = visible ? `${secs(sample.latencyMs).padStart(7)}` : ' NEVER ';
      console.log(
        `  [${form} ${String(n).padStart(3)}/${total}] ${status}  ${String(sample.apiCalls).padStart(3)} API ` +
          `(${String(sample.apiCallsSettled).padStart(3)} with confirmation)  ${kind.padEnd(25)} ${change.label}`,
      );
    }
  }
  return samples;
}

/** Waits until authentik has seen no request for a while after the confirmation delay. */
async function settle(demo: DemoAuthentik): Promise<void> {
  await delay(CONFIRMATION_SETTLE_MS);
  for (let last = -1; demo.requests !== last; ) {
    last = demo.requests;
    await delay(500);
  }
}

// ---- burst ----------------------------------------------------------------------------------

interface BurstResult {
  users: number;
  apiCalls: number;
  sendMs: number;
  allVisible: boolean;
  /** From the first webhook POST until the last change was seen, when all were. */
  convergeMs: number;
  /** After the last webhook POST. */
  convergeAfterLastMs: number;
  visibleCount: number;
  quantiles: { p50: number; p90: number; first: number };
  webhooks: { sent: number; failed: number; retried: number };
  deltas: Array<{ atMs: number; added: number; removed: number; waitedMs?: number }>;
  withinTarget: boolean;
}

async function measureBurst(
  flags: Flags,
  state: ScenarioState,
  demo: DemoAuthentik,
  sender: WebhookSender,
  backend: Backend,
  catalog: CatalogHttp,
): Promise<BurstResult> {
  sender.active = 'mapping';
  const users = state.activeUsers().slice(0, flags.burst);
  if (users.length < flags.burst) throw new Error(`only ${users.length} users left for the burst`);
  const expected = new Map(users.map(u => [u.name, `Burst ${u.pk}`]));
  const seen = new Map<string, number>();
  const webhooksBefore = sender.stats();
  const probeFrom = backend.probe.length;
  const requestsBefore = demo.requests;

  const start = performance.now();
  const startWall = Date.now();
  for (const user of users) demo.directory.updateUser(user.pk, { name: expected.get(user.name)! });
  const lastSent = sender.lastSentAt;
  const sendMs = lastSent - start;

  const deadline = lastSent + visibleTimeoutMs(flags.extraUsers);
  const observeUntil = lastSent + Math.max(BURST_OBSERVE_MS, visibleTimeoutMs(flags.extraUsers));
  // Poll only the users not seen yet (by-refs, name + display name): the observer's load on
  // the backend shrinks as the burst lands.
  while (seen.size < users.length && performance.now() < observeUntil) {
    if (backend.exited) throw new Error(backend.exited);
    const pending = users.filter(u => !seen.has(u.name));
    const refs = pending.map(u => `user:default/${u.name}`);
    const items = await catalog.byRefs(refs, ['metadata.name', 'spec.profile.displayName']).catch(() => []);
    const now = performance.now();
    for (const entity of items) {
      if (!entity) continue;
      const want = expected.get(entity.metadata.name);
      if (want !== undefined && displayNameOf(entity) === want) seen.set(entity.metadata.name, now - start);
    }
    if (seen.size < users.length) await delay(BURST_POLL_MS);
  }
  await sender.idle();
  await delay(200);
  const apiCalls = demo.requests - requestsBefore;
  const times = [...seen.values()];
  const allVisible = seen.size === users.length;
  const convergeMs = allVisible ? max(times) : Number.NaN;
  const webhooksAfter = sender.stats();
  const deltas = backend.probe
    .slice(probeFrom)
    .filter((m): m is ProbeDeltaMessage => m.type === 'delta')
    .map(m => ({
      atMs: m.at - startWall,
      added: m.added,
      removed: m.removed,
      waitedMs: m.firstReceivedAt === undefined ? undefined : m.at - m.firstReceivedAt,
    }));
  return {
    users: users.length,
    apiCalls,
    sendMs,
    allVisible,
    convergeMs,
    convergeAfterLastMs: allVisible ? start + convergeMs - lastSent : Number.NaN,
    visibleCount: seen.size,
    quantiles: { first: Math.min(...times), p50: percentile(times, 50), p90: percentile(times, 90) },
    webhooks: {
      sent: webhooksAfter.sent - webhooksBefore.sent,
      failed: webhooksAfter.failed - webhooksBefore.failed,
      retried: webhooksAfter.retried - webhooksBefore.retried,
    },
    deltas,
    withinTarget: allVisible && start + convergeMs <= deadline,
  };
}

// ---- report -----------------------------------------------------------------------------------

function latencyRows(samples: LatencySample[]): string[][] {
  const rows: string[][] = [];
  const row = (label: string, group: LatencySample[]) => {
    const ok = group.filter(s => s.visible);
    const lat = ok.map(s => s.latencyMs);
    const calls = group.map(s => s.apiCalls);
    const settled = group.map(s => s.apiCallsSettled);
    rows.push([
      label,
      `${ok.length}/${group.length}`,
      secs(percentile(lat, 50)),
      secs(percentile(lat, 95)),
      secs(max(lat)),
      num(mean(calls), 1),
      num(max(calls), 0),
      num(mean(settled), 1),
      num(max(settled), 0),
    ]);
  };
  for (const kind of KINDS) row(kind, samples.filter(s => s.kind === kind));
  row('all, mapping body', samples.filter(s => s.form === 'mapping'));
  row('all, default body', samples.filter(s => s.form === 'default'));
  row('**all**', samples);
  return rows;
}

/** The module's `webhook.coalesceWindow` default (the bench does not set it). */
const COALESCE_WINDOW_MS = 250;

function breakdownRows(samples: LatencySample[]): string[][] {
  const rows: string[][] = [];
  const row = (label: string, group: LatencySample[]) => {
    const probed = group.filter(s => s.visible && s.receivedMs !== undefined && s.deltaMs !== undefined);
    const arrival = probed.map(s => s.receivedMs!);
    // One change at a time: the coalescer fires one window after the webhook's arrival.
    const plan = probed.map(s => s.deltaMs! - s.receivedMs! - COALESCE_WINDOW_MS);
    const catalog = probed.map(s => s.latencyMs - s.deltaMs!);
    const total = probed.map(s => s.latencyMs);
    const both = (values: number[]) => `${secs(percentile(values, 50))} / ${secs(percentile(values, 95))}`;
    rows.push([label, String(probed.length), secs(percentile(arrival, 50)), secs(COALESCE_WINDOW_MS), both(plan), both(catalog), both(total)]);
  };
  for (const kind of KINDS) row(kind, samples.filter(s => s.kind === kind));
  row('all', samples);
  return rows;
}

const BREAKDOWN_HEADER = [
  'change',
  'n',
  'arrival p50',
  'coalescer',
  'plan + publish p50 / p95',
  'catalog p50 / p95',
  'total p50 / p95',
];

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const random = (() => {
    let s = flags.seed >>> 0;
    return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  })();
  console.log(`# ${COMMAND}`);
  console.log(
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
      `Node ${process.version}, ${os.platform()} ${os.release()}`,
  );

  console.log(`uptime: load average ${loadAverage()} (1/5/15 min)`);
  console.log(
    `Database: ${flags.database} (${flags.databaseChosen ? '--database' : `default for ${flags.extraUsers.toLocaleString('en-US')} users: postgres from ${POSTGRES_FROM_USERS.toLocaleString('en-US')}`}); ` +
      `incremental.concurrency ${flags.concurrency || '8 (module default)'}`,
  );
  if (flags.database === 'postgres' && !(await isPostgresAvailable(3000))) {
    console.error(
      `\nBench failed: --database postgres needs PostgreSQL at ${postgresAddress()} (user ${postgresConnection().user}, trust auth), ` +
        'and it is not reachable. Start it, point BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING at another server, ' +
        `or use --database sqlite (slow beyond a few thousand users).`,
    );
    return 1;
  }
  const phases = new Phases();

  // Directory and demo authentik (webhooks are sent by our WebhookSender, not started yet).
  const { directory } = buildBenchDirectory({ extraUsers: flags.extraUsers, teams: flags.groups, seed: flags.seed });
  const demo = await startDemoAuthentik({ directory, token: DEMO_TOKEN, port: 0 });
  phases.end('directory generated, demo authentik up');
  const port = await freePort();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'bench-events-'));
  const settings: BackendSettings = {
    port,
    demoUrl: demo.url,
    database: flags.database,
    databasePrefix: flags.database === 'postgres' ? `backstage_bench_${process.pid}_` : undefined,
    concurrency: flags.concurrency || undefined,
    stitchPollMs: flags.stitchPollMs,
    processingIntervalS: flags.processingIntervalS,
  };
  const { config, differences } = benchConfig(settings);
  const backendUrl = `http://127.0.0.1:${port}`;
  const sender = new WebhookSender(`${backendUrl}/api/events/http/authentik`);
  const unsubscribe = directory.onChange(change => sender.onChange(change));
  const expectedUsers = eligibleUserCount(directory);
  const expectedGroups = [...directory.groupRecords()].filter(g => g.name !== 'Authentik Admins').length;
  console.log(
    `Directory: ${directory.userCount} users (${expectedUsers} eligible: active, not service accounts), ` +
      `${directory.groupCount} groups (${expectedGroups} emitted); demo authentik at ${demo.url}`,
  );
  console.log(`Backend: child process (node --import tsx bench/events/backend.ts) on ${backendUrl}, config = dev/app-config.yaml +`);
  for (const d of differences) console.log(`  - ${d}`);
  console.log(
    `  (catalog.stitchingStrategy: ${JSON.stringify(config.catalog.stitchingStrategy ?? "Backstage's default")}; ` +
      'webhook.coalesceWindow at its default)',
  );
  console.log(`Backend log: ${path.join(workDir, 'backend.log')}\n`);

  const backend = startBackend(settings, workDir, config);
  // Ctrl-C: stop the backend (it exits when this process goes) and drop the run's databases.
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping`);
    void backend
      .stop()
      .then(() => closeQueues())
      .then(() => (settings.databasePrefix ? dropDatabasesWithPrefix(settings.databasePrefix) : []))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const catalog = new CatalogHttp(backendUrl, DEV_CATALOG_TOKEN);
  let closeQueues: () => Promise<void> | undefined = async () => undefined;
  let exitCode = 0;
  try {
    // ---- first walk ---------------------------------------------------------------------
    const queues = settings.databasePrefix ? new CatalogQueues(`${settings.databasePrefix}catalog`) : undefined;
    closeQueues = () => queues?.close();
    // Autovacuum off: analyse as it would (see the header); the time is printed with the phases.
    // Known once the backend answers (the catalog creates its database as it starts).
    let analyzeStats = false;
    let analyzedAt = performance.now();
    let analyzeMs = 0;
    let analyzeRuns = 0;
    const analyze = async () => {
      analyzedAt = performance.now();
      analyzeMs += await queues!.analyze();
      analyzeRuns += 1;
    };
    const maybeAnalyze = async () => {
      if (analyzeStats && performance.now() - analyzedAt >= 60_000) await analyze();
    };
    const checkAutovacuum = async () => {
      analyzeStats = queues ? !(await queues.autovacuumOn()) : false;
      if (!analyzeStats) return;
      console.log(
        'PostgreSQL autovacuum is off on this server: the bench runs ANALYZE on the catalog database every 60 s ' +
          'while the first walk lands and once when it has landed (as autovacuum would; without it the planner ' +
          "keeps the empty tables' statistics).",
      );
    };
    const timeout = startupTimeoutMs(flags.extraUsers);
    // by-query counts cost the catalog a scan of its search table: not every 250 ms at 100k.
    const countEveryMs = expectedUsers > 10_000 ? 2_000 : 250;
    await waitUntil('the backend to answer', timeout, 250, async () => {
      const { status } = await catalog.getJson(`/api/catalog/incremental/providers/${encodeURIComponent(PROVIDER)}`);
      return status === 200;
    }, backend);
    phases.end('backend started (until the catalog answers)');
    await checkAutovacuum();
    const progress = new Progress(queues, catalog, expectedUsers + expectedGroups);
    await waitUntil('the first walk to complete (provider resting)', timeout, 250, async () => {
      const { body } = await catalog.getJson(`/api/catalog/incremental/providers/${encodeURIComponent(PROVIDER)}`);
      if (body?.last_error) {
        const text = String(body.last_error);
        const short = text.length > 400 ? `${text.slice(0, 160)} … ${text.slice(-160)}` : text;
        throw new FatalError(`the first walk failed (provider last_error): ${short}`);
      }
      await progress.maybeReport('walking');
      await maybeAnalyze();
      return body?.status?.current_action === 'resting';
    }, backend);
    const walkRequests = demo.requests;
    phases.end(`first walk done by the engine (${walkRequests} authentik requests; every entity handed to the catalog)`);
    await waitUntil('the catalog to hold every user and group', timeout, countEveryMs, async () => {
      await progress.maybeReport('processing');
      await maybeAnalyze();
      const [users, groups] = await Promise.all([catalog.count('kind=user'), catalog.count('kind=group')]);
      return users === expectedUsers && groups === expectedGroups;
    }, backend);
    phases.end(`catalog processed the walk (${expectedUsers} users, ${expectedGroups} groups visible)`);
    // Relations: every entity stitched after its last processing. With PostgreSQL the bench
    // reads the catalog's queues; with SQLite in memory it cannot, and waits 3 s.
    if (queues) {
      await waitUntil('the catalog to stitch and process everything due', timeout, 1000, async () => {
        const q = await queues.read();
        await progress.maybeReport('stitching', q);
        await maybeAnalyze();
        return q.processingDue === 0 && q.stitchDue === 0;
      }, backend);
      phases.end('catalog idle (nothing due for processing or stitching)');
      if (analyzeStats) {
        await analyze();
        phases.end(`ANALYZE of the catalog database (autovacuum off; ${analyzeRuns} runs, ${secs(analyzeMs)} in all)`);
      }
    } else {
      await delay(3000);
      phases.end('relations settling (fixed 3 s: SQLite in memory is not readable from here)');
    }

    // Names as the catalog holds them (pk annotations), for the generated users and all groups.
    const userEntities = await catalog.query('kind=user', ['metadata.name', 'metadata.annotations']);
    const groupEntities = await catalog.query('kind=group', ['metadata.name', 'metadata.annotations']);
    const userNames = new Map<number, string>();
    for (const e of userEntities) {
      const pk = Number(e.metadata.annotations?.['goauthentik.io/user-pk']);
      if (e.metadata.name.startsWith('bench.user.')) userNames.set(pk, e.metadata.name);
    }
    const groupNames = new Map<string, string>();
    for (const e of groupEntities) groupNames.set(e.metadata.annotations!['goauthentik.io/group-pk'], e.metadata.name);
    const sortedUsers = new Map([...userNames].sort((a, b) => a[0] - b[0]));
    const byName = (name: string) => directory.findGroupByName(name)!.pk;
    const teams = [...directory.groupRecords()].filter(g => g.name.startsWith('Bench Team')).map(g => g.pk);
    // Renames alternate between bench teams (~55 members) and seeded groups (with children, nested).
    const seededRenames = ['Engineering', 'SRE', 'Data & Analytics', 'Platform', 'Sales', 'Operations', 'Design', 'People'].map(byName);
    const rotation: string[] = [];
    for (let i = 0; i < Math.max(teams.length, seededRenames.length); i += 1) {
      if (teams[i]) rotation.push(teams[i]);
      if (seededRenames[i]) rotation.push(seededRenames[i]);
    }
    const state = new ScenarioState(directory, catalog, sortedUsers, groupNames, rotation, flags.seed);

    // ---- latency ------------------------------------------------------------------------
    console.log(`\n## Latency: ${flags.perKind} changes of each kind per body form, one at a time (poll every ${flags.pollMs} ms)`);
    const samples: LatencySample[] = [];
    for (const form of ['mapping', 'default'] as const) {
      samples.push(...(await measureLatency(form, flags, state, demo, sender, backend, random)));
      await delay(1000);
    }
    phases.end(`latency rounds (${samples.length} changes, each followed by its confirmation read)`);

    // ---- burst --------------------------------------------------------------------------
    console.log(`\n## Burst: ${flags.burst} user display-name updates, each sending its webhook at once (mapping body)`);
    await delay(3000); // quiet catalog before the burst
    const burst = await measureBurst(flags, state, demo, sender, backend, catalog);
    phases.end(`burst of ${flags.burst}`);
    console.log(
      `  ${burst.webhooks.sent} webhooks delivered in ${secs(burst.sendMs)} (queued) ` +
        `(${burst.webhooks.retried} retried, ${burst.webhooks.failed} failed); ` +
        `${burst.visibleCount}/${burst.users} visible`,
    );
    const lastDelta = burst.deltas.at(-1);
    console.log(
      `  deltas published: ${burst.deltas.length} — ` +
        burst.deltas
          .map(d => `${d.added}+/${d.removed}− at ${secs(d.atMs)}${d.waitedMs === undefined ? '' : ` (batch waited ${secs(d.waitedMs)})`}`)
          .join('; '),
    );
    if (lastDelta && burst.allVisible) {
      console.log(
        `  → the module had published every delta ${secs(lastDelta.atMs)} after the first webhook; ` +
          `the catalog (engine apply + processing + stitching) showed all of them ${secs(burst.convergeMs - lastDelta.atMs)} later`,
      );
    }

    // ---- summary ------------------------------------------------------------------------
    const visibleSamples = samples.filter(s => s.visible);
    const latencies = visibleSamples.map(s => s.latencyMs);
    const never = samples.filter(s => !s.visible);
    const p95 = never.length > 0 ? Number.POSITIVE_INFINITY : percentile(latencies, 95);
    const ratio = burst.apiCalls / burst.users;
    const latencyPass = p95 <= TARGET_P95_MS;
    const burstPass = burst.apiCalls < burst.users;

    const header = ['change', 'visible', 'p50', 'p95', 'max', 'API calls mean', 'API calls max', '+confirm mean', '+confirm max'];
    const rows = latencyRows(samples);
    console.log('\n## Summary\n');
    console.log(`Webhook POSTed → visible via GET /api/catalog/entities/by-name (${samples.length} changes, both body forms):\n`);
    console.log(textTable(header, rows));
    console.log(
      '\nBreakdown (from the backend probe): arrival = POST → published by the ingress; coalescer = the quiet window ' +
        '(webhook.coalesceWindow); plan + publish = the planner\'s reads of authentik and the catalog, until the delta is ' +
        'published; catalog = delta published → visible (engine apply, processing loop poll ≤ 1 s + processing, stitcher poll + ' +
        `stitching, the bench's ${flags.pollMs} ms poll)\n`,
    );
    console.log(textTable(BREAKDOWN_HEADER, breakdownRows(samples)));
    console.log(
      `\nBurst: ${burst.users} user updates → ${burst.apiCalls} authentik API calls ` +
        `(vs ${burst.users} single-user re-reads un-coalesced: ratio ${ratio.toFixed(3)}, ${(burst.users / Math.max(1, burst.apiCalls)).toFixed(1)}× fewer); ` +
        (burst.allVisible
          ? `all visible ${secs(burst.convergeMs)} after the first webhook (${secs(burst.convergeAfterLastMs)} after the last); ` +
            `first ${secs(burst.quantiles.first)}, 50% ${secs(burst.quantiles.p50)}, 90% ${secs(burst.quantiles.p90)}`
          : `only ${burst.visibleCount}/${burst.users} visible after ${Math.max(BURST_OBSERVE_MS, visibleTimeoutMs(flags.extraUsers)) / 1000} s`),
    );
    if (never.length > 0) {
      console.log(`\nNever visible within ${visibleTimeoutMs(flags.extraUsers) / 1000} s (${never.length}):`);
      for (const s of never) console.log(`  - [${s.form}] ${s.kind}: ${s.label}`);
    }
    if (!burst.withinTarget) {
      console.log(`\nBurst: not every change was visible within ${visibleTimeoutMs(flags.extraUsers) / 1000} s of the last webhook.`);
    }

    console.log('\nPhases (wall time, load average at the end of each):\n');
    console.log(textTable(['phase', 'wall', 'load average'], phases.rows.map(r => [r.name, secs(r.ms), r.load])));
    console.log(`total ${secs(phases.total())}`);

    console.log('\n## Acceptance\n');
    console.log(`  ${latencyPass ? 'PASS' : 'FAIL'}  p95 webhook-to-visible latency ${secs(p95)} ≤ ${secs(TARGET_P95_MS)}`);
    console.log(`  ${burstPass ? 'PASS' : 'FAIL'}  burst API calls ${burst.apiCalls} < ${burst.users}`);

    console.log('\n## Markdown (README)\n');
    console.log(`Measured with \`${COMMAND}\` (${samples.length} changes one at a time, half with the mapping body, half with authentik's default body; then a burst of ${burst.users} user updates). ` +
      `Directory: ${expectedUsers} users, ${expectedGroups} groups; backend: dev config ` +
      `(${flags.database === 'postgres' ? 'PostgreSQL' : 'SQLite in memory'}` +
      `${flags.concurrency ? `, incremental.concurrency ${flags.concurrency}` : ''}). ` +
      `Load average at the end: ${loadAverage()}. ` +
      `${os.cpus()[0]?.model ?? ''} × ${os.cpus().length}, Node ${process.version}.\n`);
    console.log(markdownTable(header.map(h => (h === 'change' ? 'Change (webhook → visible in the catalog API)' : h)), rows));
    console.log('');
    console.log(
      markdownTable(
        ['Burst', 'Value'],
        [
          ['User updates (webhooks)', num(burst.users, 0)],
          ['authentik API calls until all visible', num(burst.apiCalls, 0)],
          ['vs un-coalesced single-user re-reads', `${num(burst.users, 0)} (ratio ${ratio.toFixed(3)})`],
          ['Deltas published', num(burst.deltas.length, 0)],
          ['All visible after (from the first webhook)', burst.allVisible ? secs(burst.convergeMs) : 'not all'],
          ['50% / 90% visible after', `${secs(burst.quantiles.p50)} / ${secs(burst.quantiles.p90)}`],
        ],
      ),
    );
    console.log('');
    console.log(
      markdownTable(
        ['Target', 'Result'],
        [
          [`p95 webhook-to-visible ≤ ${secs(TARGET_P95_MS)}`, `${latencyPass ? 'PASS' : 'FAIL'} (${secs(p95)})`],
          [`burst API calls < ${burst.users}`, `${burstPass ? 'PASS' : 'FAIL'} (${burst.apiCalls})`],
        ],
      ),
    );

    const rawFile = path.join(workDir, 'results.json');
    writeFileSync(rawFile, JSON.stringify({ flags, samples, burst }, null, 2));
    console.log(`\nRaw results: ${rawFile}`);

    if (never.length > 0 || !burst.withinTarget) exitCode = 1;
    else if (!latencyPass || !burstPass) exitCode = 2;
  } catch (error) {
    console.error(`\nBench failed: ${(error as Error).stack ?? String(error)}`);
    console.error(`Backend log: ${backend.logFile}`);
    exitCode = 1;
  } finally {
    unsubscribe();
    sender.close();
    await backend.stop();
    await demo.stop();
    await closeQueues();
    if (settings.databasePrefix) {
      const dropped = await dropDatabasesWithPrefix(settings.databasePrefix).catch((error: Error) => {
        console.error(`Could not drop the databases ${settings.databasePrefix}*: ${error.message}`);
        return [];
      });
      if (dropped.length > 0) console.log(`Dropped ${dropped.join(', ')}.`);
    }
  }
  return exitCode;
}

main().then(
  code => process.exit(code),
  error => {
    console.error(error);
    process.exit(1);
  },
);
