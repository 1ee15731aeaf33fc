/**
 * Full-walk benchmark:
 *   npm run bench [-- --users N --groups N --latency ms --concurrency N --repeat N --seed N --quick --cold-server]
 *
 * This process generates synthetic directories and serves them with the demo authentik
 * (per-request latency, authentik's page cap of 100). Every measured walk runs in its own
 * child process (`bench/walkWorker.ts`, `node --expose-gc --import tsx`), so the
 * directory's memory never counts in the walk's RSS. Scenarios:
 *   small  (users/10, groups/10) at the default concurrency  — the RSS scaling baseline
 *   large  (users, groups)       at the default concurrency
 *   large  (users, groups)       at concurrency 1
 * "Default concurrency" is src/config.ts's default unless --concurrency is given.
 * Exits non-zero when a walk fails or emits other entities than the directory holds.
 */
import os from 'node:os';
import { ConfigReader } from '@backstage/config';
import { readAuthentikConfigs } from '../src/config';
import { DemoDirectory, generateSyntheticDirectory, startDemoAuthentik } from '../dev/demo-authentik';
import type { MemoryComposition, WalkWorkerResult, WalkWorkerSuccess } from './walkProtocol';
import { median, runWalkWorker } from './walkRunner';
import { warmUp } from './warmUp';

const TOKEN = 'bench-token';
const PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 100; // authentik ≥ 2025.12 caps page_size at 100
const SAMPLE_MS = 20;

// ---- flags ------------------------------------------------------------------------------

interface Flags {
  users: number;
  groups: number;
  latencyMs: number;
  /** The "default" concurrency compared with 1 (src/config.ts's default unless given). */
  concurrency: number;
  concurrencyFromConfig: boolean;
  repeat: number;
  quick: boolean;
  /** Skip the warm-up that has the demo authentik serialize every user before the walks. */
  coldServer: boolean;
  seed: number;
}

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(
    'usage: npm run bench -- [--users N] [--groups N] [--latency ms] [--concurrency N] [--repeat N] [--seed N] [--quick] [--cold-server]\n' +
      '  --quick      10,000 users / 500 groups (RSS baseline: 1,000 / 50), a fast sanity run\n' +
      '  --cold-server  the demo authentik serializes each user during the walk (its CPU competes with the walk\'s)\n' +
      '  --repeat N   walk every scenario N times and report medians (default 1)\n',
  );
  process.exit(2);
}

function configDefaultConcurrency(): number {
  const [instance] = readAuthentikConfigs(
    new ConfigReader({ catalog: { providers: { authentik: { baseUrl: 'http://authentik.invalid', token: 'x' } } } }),
  );
  return instance.incremental.concurrency;
}

function parseFlags(argv: string[]): Flags {
  const values = new Map<string, number>();
  let quick = false;
  let coldServer = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--quick') {
      quick = true;
      continue;
    }
    if (arg === '--cold-server') {
      coldServer = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') usage();
    const match = /^--(users|groups|latency|concurrency|repeat|seed)(?:=(.*))?$/.exec(arg);
    if (!match) usage(`unknown argument: ${arg}`);
    const raw = match[2] ?? argv[++i];
    const value = Number(raw?.replace(/_/g, ''));
    if (raw === undefined || raw === '' || !Number.isInteger(value) || value < 0) usage(`--${match[1]} needs a whole number`);
    values.set(match[1], value);
  }
  const concurrency = values.get('concurrency');
  if (concurrency !== undefined && (concurrency < 1 || concurrency > 32)) usage('--concurrency must be 1..32');
  const users = values.get('users') ?? (quick ? 10_000 : 100_000);
  if (users < 10) usage('--users must be at least 10');
  const repeat = values.get('repeat') ?? 1;
  if (repeat < 1) usage('--repeat must be at least 1');
  return {
    users,
    groups: values.get('groups') ?? (quick ? 500 : 5_000),
    latencyMs: values.get('latency') ?? 20,
    concurrency: concurrency ?? configDefaultConcurrency(),
    concurrencyFromConfig: concurrency === undefined,
    repeat,
    quick,
    coldServer,
    seed: values.get('seed') ?? 42,
  };
}

// ---- scenarios --------------------------------------------------------------------------

interface DirectorySize {
  users: number;
  groups: number;
}

interface Scenario {
  id: 'small' | 'large' | 'large-c1';
  label: string;
  size: DirectorySize;
  concurrency: number;
}

interface Expected {
  users: number;
  groups: number;
  userPkSum: number;
  maxUserPk: number;
}

interface Run {
  result: WalkWorkerResult;
  serverRequests: number;
  /** CPU this process (the demo authentik) used while the walk ran. */
  serverCpuMs: number;
  problems: string[];
}

interface Summary {
  wallMs: number;
  wallMin: number;
  wallMax: number;
  groupsPhaseMs: number;
  requests: number;
  notFound: number;
  entities: number;
  entitiesPerSecond: number;
  maxRss: number;
  maxRssMin: number;
  maxRssMax: number;
  rssPeakSampled: number;
  rssBaseline: number;
  heapUsedPeak: number;
  keptAfterGc: number;
  clientCpuMs: number;
  serverCpuMs: number;
}

interface Outcome {
  scenario: Scenario;
  expected?: Expected;
  runs: Run[];
}

/** The spec's rule, from the directory itself: active, non-service-account users; every group (none excluded). */
function expectedFrom(directory: DemoDirectory): Expected {
  let users = 0;
  let userPkSum = 0;
  let maxUserPk = 0;
  for (const user of directory.userRecords()) {
    maxUserPk = Math.max(maxUserPk, user.pk);
    if (user.is_active && (user.type === 'internal' || user.type === 'external')) {
      users += 1;
      userPkSum += user.pk;
    }
  }
  return { users, groups: directory.groupCount, userPkSum, maxUserPk };
}

function check(result: WalkWorkerResult, expected: Expected, serverRequests: number): string[] {
  if (!result.ok) return [`walk failed: ${result.error}`];
  const problems: string[] = [];
  if (result.users !== expected.users) problems.push(`emitted ${result.users} users, expected ${expected.users}`);
  if (result.groups !== expected.groups) problems.push(`emitted ${result.groups} groups, expected ${expected.groups}`);
  if (result.duplicateUsers > 0) problems.push(`${result.duplicateUsers} users emitted twice (or with an impossible pk)`);
  if (result.duplicateGroupNames > 0) problems.push(`${result.duplicateGroupNames} group names emitted twice`);
  if (result.users === expected.users && result.userPkSum !== expected.userPkSum) {
    problems.push(`emitted users are not the eligible users (pk sum ${result.userPkSum} ≠ ${expected.userPkSum})`);
  }
  if (serverRequests !== result.requests) {
    // Not a walk failure, but the request counts would be suspect.
    process.stderr.write(`note: the server saw ${serverRequests} API requests, the client counted ${result.requests}\n`);
  }
  return problems;
}

function summarize(outcome: Outcome): Summary | undefined {
  const results = outcome.runs.map(run => run.result);
  if (results.length === 0 || outcome.runs.some(run => run.problems.length > 0)) return undefined;
  const ok = results as WalkWorkerSuccess[];
  const of = (f: (r: WalkWorkerSuccess) => number) => median(ok.map(f));
  return {
    wallMs: of(r => r.wallMs),
    wallMin: Math.min(...ok.map(r => r.wallMs)),
    wallMax: Math.max(...ok.map(r => r.wallMs)),
    groupsPhaseMs: of(r => r.groupsPhaseMs),
    requests: of(r => r.requests),
    notFound: of(r => r.notFound),
    entities: of(r => r.users + r.groups),
    entitiesPerSecond: of(r => (r.users + r.groups) / (r.wallMs / 1000)),
    maxRss: of(r => r.memory.maxRss),
    maxRssMin: Math.min(...ok.map(r => r.memory.maxRss)),
    maxRssMax: Math.max(...ok.map(r => r.memory.maxRss)),
    rssPeakSampled: of(r => r.memory.rssPeakSampled),
    rssBaseline: of(r => r.memory.rssBaseline),
    heapUsedPeak: of(r => r.memory.heapUsedPeakSampled),
    keptAfterGc: of(r => r.memory.heapAfterGc - r.memory.heapBaseline),
    clientCpuMs: of(r => r.cpu.userMs + r.cpu.systemMs),
    serverCpuMs: median(outcome.runs.map(run => run.serverCpuMs)),
  };
}

// ---- formatting -------------------------------------------------------------------------

const MiB = 1024 * 1024;
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMiB = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const fmtSec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

/** Where the RSS growth of a walk went: each part near the sampled peak minus before the walk. */
function describeGrowth({ baseline, peak }: WalkWorkerSuccess['memory']['composition']): string {
  const part = (key: Exclude<keyof MemoryComposition, 'rss'>) => {
    const delta = (peak[key] - baseline[key]) / MiB;
    return `${delta < 0 ? '−' : '+'}${Math.abs(delta).toFixed(1)}`;
  };
  return (
    `RSS growth near its sampled peak, ${fmtMiB(peak.rss - baseline.rss)}: V8 young generation ${part('youngGeneration')}, ` +
    `old generation ${part('oldGeneration')}, other heap spaces ${part('otherHeapSpaces')}, ` +
    `array buffers ${part('arrayBuffers')}, the rest (native) ${part('rest')} MiB`
  );
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdown(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

// ---- main -------------------------------------------------------------------------------

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const flags = parseFlags(args);
  const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  const smallUsers = Math.round(flags.users / 10);
  const small: DirectorySize = { users: smallUsers, groups: Math.round((flags.groups * smallUsers) / flags.users) };
  const large: DirectorySize = { users: flags.users, groups: flags.groups };
  const c = flags.concurrency;
  const outcomes: Outcome[] = [
    { scenario: { id: 'small', label: `${fmtInt(small.users)} users, c=${c}`, size: small, concurrency: c }, runs: [] },
    { scenario: { id: 'large', label: `${fmtInt(large.users)} users, c=${c}`, size: large, concurrency: c }, runs: [] },
    { scenario: { id: 'large-c1', label: `${fmtInt(large.users)} users, c=1`, size: large, concurrency: 1 }, runs: [] },
  ];

  const cpus = os.cpus();
  console.log(`authentik full-walk benchmark — ${command}`);
  console.log(
    `node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}; latency ${flags.latencyMs} ms per request; ` +
      `page size ${PAGE_SIZE} (server cap ${MAX_PAGE_SIZE}); default concurrency ${c}` +
      `${flags.concurrencyFromConfig ? ' (src/config.ts default)' : ' (--concurrency)'}; seed ${flags.seed}; ` +
      `${flags.repeat} run(s) per scenario`,
  );
  console.log('The demo authentik runs in this process; every walk runs in its own child process (bench/walkWorker.ts).');
  console.log(
    flags.coldServer
      ? 'Cold server (--cold-server): the demo authentik serializes each user while the walk runs, on the same CPUs.'
      : 'Warm server: the demo authentik serialized every user before the walks (its CPU would otherwise count as the walk\'s; --cold-server to see it).',
  );
  const loadAtStart = os.loadavg()[0];
  console.log(`Load average at start: ${loadAtStart.toFixed(2)} (other processes compete for the ${cpus.length} CPUs when it is high).\n`);

  for (const size of [small, large]) {
    const generationStart = performance.now();
    let directory: DemoDirectory | undefined = generateSyntheticDirectory({ ...size, seed: flags.seed });
    const expected = expectedFrom(directory);
    console.log(
      `Generated ${fmtInt(size.users)} users / ${fmtInt(size.groups)} groups in ${fmtSec(performance.now() - generationStart)}: ` +
        `expecting ${fmtInt(expected.users)} User + ${fmtInt(expected.groups)} Group entities`,
    );
    const server = await startDemoAuthentik({ directory, token: TOKEN, latencyMs: flags.latencyMs, maxPageSize: MAX_PAGE_SIZE });
    try {
      await warmUp(server.url, TOKEN, PAGE_SIZE, flags.coldServer);
      for (let round = 1; round <= flags.repeat; round += 1) {
        for (const outcome of outcomes.filter(o => o.scenario.size === size)) {
          outcome.expected = expected;
          server.resetRequestCount();
          if (flags.coldServer) server.forgetSerializedUsers();
          process.stdout.write(`  walking ${outcome.scenario.label}${flags.repeat > 1 ? ` (run ${round})` : ''} … `);
          const cpuBefore = process.cpuUsage();
          const result = await runWalkWorker({
            baseUrl: server.url,
            token: TOKEN,
            pageSize: PAGE_SIZE,
            concurrency: outcome.scenario.concurrency,
            sampleMs: SAMPLE_MS,
            maxUserPk: expected.maxUserPk,
          });
          const cpu = process.cpuUsage(cpuBefore);
          const serverRequests = server.requests;
          const problems = check(result, expected, serverRequests);
          outcome.runs.push({ result, serverRequests, serverCpuMs: (cpu.user + cpu.system) / 1000, problems });
          console.log(
            result.ok
              ? `${fmtSec(result.wallMs)}, ${fmtInt(result.requests)} requests, peak RSS ${fmtMiB(result.memory.maxRss)}` +
                  `${problems.length ? ` — WRONG: ${problems.join('; ')}` : ''}`
              : `FAILED: ${problems.join('; ')}`,
          );
        }
      }
    } finally {
      await server.stop();
      directory = undefined;
    }
  }

  const summaries = new Map(outcomes.map(o => [o.scenario.id, summarize(o)]));

  // ---- readable table
  console.log(`\nResults${flags.repeat > 1 ? ` (medians of ${flags.repeat} runs; ranges are min–max)` : ''}`);
  const headers = [
    'Scenario', 'Groups', 'Wall time', 'Groups phase', 'HTTP req.', '404s', 'Entities', 'Entities/s',
    'Peak RSS', 'Sampled peak', 'Baseline', 'Heap peak', 'Kept after GC', 'Walk CPU', 'Server CPU',
  ];
  const rows = outcomes.map(o => {
    const s = summaries.get(o.scenario.id);
    const head = [o.scenario.label, fmtInt(o.scenario.size.groups)];
    if (!s) return [...head, 'FAILED', ...Array<string>(headers.length - 3).fill('')];
    const range = (v: string, lo: string, hi: string) => (flags.repeat > 1 ? `${v} (${lo}–${hi})` : v);
    return [
      ...head,
      range(fmtSec(s.wallMs), (s.wallMin / 1000).toFixed(2), (s.wallMax / 1000).toFixed(2)),
      fmtSec(s.groupsPhaseMs),
      fmtInt(s.requests),
      fmtInt(s.notFound),
      fmtInt(s.entities),
      fmtInt(s.entitiesPerSecond),
      range(fmtMiB(s.maxRss), (s.maxRssMin / MiB).toFixed(0), (s.maxRssMax / MiB).toFixed(0)),
      fmtMiB(s.rssPeakSampled),
      fmtMiB(s.rssBaseline),
      fmtMiB(s.heapUsedPeak),
      fmtMiB(s.keptAfterGc),
      fmtSec(s.clientCpuMs),
      fmtSec(s.serverCpuMs),
    ];
  });
  console.log(table(headers, rows));
  console.log(
    'Peak RSS: process.resourceUsage().maxRSS of the walk process (kernel high-water mark). Sampled peak: highest RSS\n' +
      `sampled every ${SAMPLE_MS} ms during the walk. Baseline: RSS after imports and a full GC, before the walk. Heap peak:\n` +
      'highest heapUsed sampled. Kept after GC: heap still used after the walk and a full GC, minus the pre-walk heap.\n' +
      'Walk CPU: user+system CPU of the walk process during the walk. Server CPU: CPU of the demo authentik meanwhile.',
  );
  for (const o of outcomes) {
    for (const run of o.runs) {
      const r = run.result;
      if (r.ok && r.warnings > 0) console.log(`${o.scenario.label}: ${r.warnings} warnings, e.g. ${r.firstWarnings[0]}`);
    }
    const r = o.runs[0]?.result;
    if (r?.ok && o.expected) {
      console.log(
        `${o.scenario.label}: ${fmtInt(r.users)} users + ${fmtInt(r.groups)} groups emitted ` +
          `(expected ${fmtInt(o.expected.users)} + ${fmtInt(o.expected.groups)}), ${r.nextCalls} next() calls, ` +
          `server saw ${fmtInt(o.runs[0].serverRequests)} requests, ${r.memory.samples} RSS samples ` +
          `(longest gap ${r.memory.maxSampleGapMs.toFixed(0)} ms)`,
      );
    }
  }

  // ---- acceptance ratios
  const sLarge = summaries.get('large');
  const sLargeC1 = summaries.get('large-c1');
  const sSmall = summaries.get('small');
  const timeRatio = sLarge && sLargeC1 ? ratio(sLargeC1.wallMs, sLarge.wallMs) : Number.NaN;
  const rssRatio = sLarge && sSmall ? ratio(sLarge.maxRss, sSmall.maxRss) : Number.NaN;
  const growthRatio =
    sLarge && sSmall ? ratio(sLarge.maxRss - sLarge.rssBaseline, sSmall.maxRss - sSmall.rssBaseline) : Number.NaN;
  const verdict = (value: number, pass: boolean) => (Number.isNaN(value) ? 'n/a' : pass ? 'PASS' : 'FAIL');
  console.log('\nAcceptance ratios');
  console.log(
    `  wall time(c=1) / wall time(c=${c}), ${fmtInt(large.users)} users = ${timeRatio.toFixed(2)}  (must be ≥ 3): ${verdict(timeRatio, timeRatio >= 3)}`,
  );
  console.log(
    `  peak RSS(${fmtInt(large.users)} users) / peak RSS(${fmtInt(small.users)} users), c=${c} = ${rssRatio.toFixed(2)}  (must be ≤ 1.5): ${verdict(rssRatio, rssRatio <= 1.5)}`,
  );
  console.log(
    `  (diagnostic) RSS growth above the pre-walk baseline, ${fmtInt(large.users)} vs ${fmtInt(small.users)} users: ${growthRatio.toFixed(2)}×`,
  );
  // The request floor: every page read once, `c` in flight, nothing else (no CPU, no extra requests).
  const largeExpected = outcomes.find(o => o.scenario.id === 'large')?.expected;
  const floorPages = largeExpected ? Math.ceil(largeExpected.users / PAGE_SIZE) + Math.ceil(large.groups / PAGE_SIZE) : Number.NaN;
  const floorMs = (floorPages * flags.latencyMs) / c;
  const floorRatio = sLarge ? ratio(sLarge.wallMs, floorMs) : Number.NaN;
  const growthMiB = sLarge ? (sLarge.maxRss - sLarge.rssBaseline) / MiB : Number.NaN;
  console.log(
    `  floor, ${fmtInt(large.users)} users: ${fmtInt(floorPages)} pages × ${flags.latencyMs} ms ÷ ${c} in flight = ${fmtSec(floorMs)}; ` +
      `wall ${sLarge ? fmtSec(sLarge.wallMs) : 'n/a'} = ${floorRatio.toFixed(2)}× the floor, ` +
      `${sLarge ? fmtInt(sLarge.requests) : 'n/a'} requests = ${sLarge ? ratio(sLarge.requests, floorPages).toFixed(2) : 'n/a'}× the pages`,
  );
  console.log(
    `  wall time, ${fmtInt(large.users)} users, c=${c} = ${sLarge ? fmtSec(sLarge.wallMs) : 'n/a'}  (target ≤ 3.50 s at 100k/5k, 20 ms): ` +
      `${verdict(sLarge?.wallMs ?? Number.NaN, (sLarge?.wallMs ?? Infinity) <= 3500)}`,
  );
  console.log(
    `  RSS growth (peak − pre-walk baseline), ${fmtInt(large.users)} users = ${growthMiB.toFixed(1)} MiB  (target ≤ 60 MB): ` +
      `${verdict(growthMiB, growthMiB * MiB <= 60e6)}`,
  );
  for (const [i, run] of (outcomes.find(o => o.scenario.id === 'large')?.runs ?? []).entries()) {
    if (run.result.ok) console.log(`  (diagnostic) ${describeGrowth(run.result.memory.composition)}${flags.repeat > 1 ? ` (run ${i + 1})` : ''}`);
  }
  console.log(`  uptime: load average ${os.loadavg().map(l => l.toFixed(2)).join(', ')} (1/5/15 min) at the end`);
  if (flags.users !== 100_000 || flags.groups !== 5_000 || flags.latencyMs !== 20) {
    console.log('  note: the acceptance criteria are stated for 100,000 vs 10,000 users, 5,000 groups, 20 ms latency');
  }

  // ---- README table
  console.log('\nMarkdown (README):\n');
  const mdRows = [...outcomes]
    .sort((a, b) => b.scenario.size.users - a.scenario.size.users || b.scenario.concurrency - a.scenario.concurrency)
    .map(o => {
      const s = summaries.get(o.scenario.id);
      const dir = `${fmtInt(o.scenario.size.users)} users / ${fmtInt(o.scenario.size.groups)} groups`;
      if (!s) return [dir, String(o.scenario.concurrency), 'failed', '', '', ''];
      return [dir, String(o.scenario.concurrency), fmtSec(s.wallMs), fmtInt(s.requests), fmtInt(s.entitiesPerSecond), fmtMiB(s.maxRss)];
    });
  console.log(markdown(['Directory', 'Concurrency', 'Wall time', 'HTTP requests', 'Entities/s', 'Peak RSS (walk process)'], mdRows));
  console.log(
    `\n${flags.latencyMs} ms latency per request, page size ${PAGE_SIZE}` +
      `${flags.repeat > 1 ? `, medians of ${flags.repeat} runs` : ''}. ` +
      `Wall time at concurrency 1 / ${c}: ${timeRatio.toFixed(2)}×; peak RSS ${fmtInt(large.users)} / ${fmtInt(small.users)} users: ${rssRatio.toFixed(2)}×. ` +
      `Node ${process.version}, ${cpus.length} CPUs.`,
  );
  if (loadAtStart > cpus.length * 0.5) {
    // Only the load before the first walk tells about other processes: the walks themselves
    // keep about two CPUs busy (the walk process and this server).
    console.log(
      `\nwarning: the 1-minute load average was ${loadAtStart.toFixed(2)} on ${cpus.length} CPUs before the first walk: ` +
        'other processes may have competed with the walks, so times (and GC timing) may not be representative.',
    );
  }
  console.log(`\nCommand: ${command}`);

  const failed = outcomes.flatMap(o => o.runs.filter(run => run.problems.length > 0).map(run => ({ o, run })));
  if (failed.length > 0) {
    console.error(`\n${failed.length} walk(s) failed or emitted the wrong entities:`);
    for (const { o, run } of failed) console.error(`  ${o.scenario.label}: ${run.problems.join('; ')}`);
    return 1;
  }
  return 0;
}

main().then(
  code => process.exit(code),
  error => {
    console.error(error);
    process.exit(1);
  },
);
