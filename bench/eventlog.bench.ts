/**
 * Event-log benchmark (missed webhooks and poll mode):
 *   npm run bench:eventlog [-- --outage-s 60 --changes 40 --latency-samples 30 --poll-s 5 --keep]
 *
 * This process serves the demo authentik (seeded directory, NO webhooks); a REAL Backstage
 * backend (`bench/events/backend.ts`: createBackend + catalog + incremental ingestion +
 * events + this package, `dev/app-config.yaml` with a free port, a SQLite database in files
 * so that it survives a restart, initialDelay 0, a 24 h walk frequency, no webhook secret,
 * `events: { mode: poll, pollInterval: <poll-s> }`) runs in a child process.
 *
 * 1. Poll-mode latency: one user's display name changed at a time, at a random moment of the
 *    poll cycle (0–pollInterval apart); latency = change made in authentik → new name
 *    visible through `GET /api/catalog/entities/by-name/…` (polled every 50 ms).
 * 2. Outage: the backend is stopped (SIGTERM), `--changes` changes of every kind are made
 *    spread over `--outage-s` seconds, the backend is started again on the same database;
 *    T = restart → the catalog equals what a full walk of the directory would give (the
 *    tests' `expectedCatalog`), and from "backend listening" too. The backend's log must
 *    show no walk burst after the restart.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './freePort';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Entity } from '@backstage/catalog-model';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { seedDemoDirectory, SEED_USERS, startDemoAuthentik } from '../dev/demo-authentik';
import { DEMO_TOKEN, DEV_CATALOG_TOKEN } from '../dev/demoDefaults';
import { makeDirectoryChanges } from '../test/harness/directoryChanges';
import { catalogDifferences, expectedCatalog } from '../test/harness/expectedCatalog';
import { max, percentile } from './events/stats';

const ROOT = path.resolve(__dirname, '..');
const BACKEND = path.join(__dirname, 'events', 'backend.ts');
const BURST_STARTED = /incremental-engine: Ingestion '[^']+' burst initiated/g;

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
}

const OUTAGE_S = flag('outage-s', 60);
const CHANGES = flag('changes', 40);
const SAMPLES = flag('latency-samples', 30);
const POLL_S = flag('poll-s', 5);

interface Backend {
  child: ChildProcess;
  log: string;
  stop(): Promise<void>;
}

function startBackend(configFile: string, logFile: string, demoUrl: string): Backend {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', BACKEND, '--config', configFile], {
    cwd: ROOT,
    env: { ...process.env, AUTHENTIK_URL: demoUrl, AUTHENTIK_TOKEN: DEMO_TOKEN, AUTHENTIK_WEBHOOK_SECRET: '' },
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  return {
    child,
    log: logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function until<T>(what: string, timeoutMs: number, intervalMs: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await delay(intervalMs);
  }
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-eventlog-'));
  const demo = await startDemoAuthentik({ directory: seedDemoDirectory(), token: DEMO_TOKEN });
  const port = await freePort();
  const config = parseYaml(readFileSync(path.join(ROOT, 'dev', 'app-config.yaml'), 'utf8')) as Record<string, any>;
  config.backend.baseUrl = `http://localhost:${port}`;
  config.backend.listen = { port };
  config.backend.database = { client: 'better-sqlite3', connection: { directory: path.join(work, 'db') } };
  const provider = config.catalog.providers.authentik;
  provider.schedule.frequency = { hours: 24 };
  provider.schedule.initialDelay = { seconds: 0 };
  provider.events = { mode: 'poll', pollInterval: { seconds: POLL_S } };
  const configFile = path.join(work, 'app-config.yaml');
  writeFileSync(configFile, stringifyYaml(config));
  const logFile = path.join(work, 'backend.log');
  const catalog = `http://127.0.0.1:${port}/api/catalog`;
  const headers = { authorization: `Bearer ${DEV_CATALOG_TOKEN}` };
  const entities = async (): Promise<Entity[]> => {
    const response = await fetch(`${catalog}/entities?filter=kind=user&filter=kind=group`, { headers });
    if (response.status !== 200) throw new Error(`catalog answered ${response.status}`);
    return (await response.json()) as Entity[];
  };
  const consistent = async () => catalogDifferences(await entities(), expectedCatalog(demo.directory)).length === 0;
  const listening = () => fetch(`${catalog}/entities?limit=1`, { headers }).then(r => r.status === 200);

  let backend = startBackend(configFile, logFile, demo.url);
  try {
    await until('the first walk to land', 240_000, 250, consistent);
    await until('the follower to start', 30_000, 250, async () => /Following authentik's event log/.test(readFileSync(logFile, 'utf8')));
    console.log(`Backend on :${port}, SQLite files in ${work}; poll mode, pollInterval ${POLL_S} s, no webhooks`);

    // 1. Poll-mode latency.
    const pk = demo.directory.findUserByUsername(SEED_USERS.carol)!.pk;
    const name = demo.directory.getUser(pk)!.username;
    const entityName = name.toLowerCase().replace(/[^a-z0-9\-_.]/g, '-');
    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      await delay(Math.random() * POLL_S * 1000);
      const displayName = `Carol bench ${i}`;
      demo.directory.updateUser(pk, { name: displayName });
      const changedAt = Date.now();
      await until('the new display name', 60_000, 50, async () => {
        const response = await fetch(`${catalog}/entities/by-name/user/default/${entityName}`, { headers });
        const entity = (await response.json()) as Entity;
        return (entity.spec as { profile?: { displayName?: string } })?.profile?.displayName === displayName;
      });
      latencies.push(Date.now() - changedAt);
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(
      `Poll-mode latency (${SAMPLES} changes, no webhook): p50 ${s(percentile(latencies, 50))}, ` +
        `p95 ${s(percentile(latencies, 95))}, max ${s(max(latencies))}`,
    );

    // 2. Outage.
    await backend.stop();
    const stoppedAt = Date.now();
    const burstsBefore = (readFileSync(logFile, 'utf8').match(BURST_STARTED) ?? []).length;
    let made = 0;
    const rounds = 10;
    for (let round = 0; round < rounds; round++) {
      made += makeDirectoryChanges(demo.directory, Math.ceil(CHANGES / rounds), `outage${round}`);
      await delay(Math.max(0, stoppedAt + ((round + 1) * OUTAGE_S * 1000) / rounds - Date.now()));
    }
    const logSizeBefore = readFileSync(logFile, 'utf8').length;
    const restartedAt = Date.now();
    backend = startBackend(configFile, logFile, demo.url);
    await until('the backend to listen', 120_000, 50, listening);
    const listeningAt = Date.now();
    let appliedAt: number | undefined;
    const logTail = () => readFileSync(logFile, 'utf8').slice(logSizeBefore);
    await until('the catalog to equal the directory', 120_000, 100, async () => {
      if (appliedAt === undefined && /event log: applied/.test(logTail())) appliedAt = Date.now();
      return consistent();
    });
    const consistentAt = Date.now();
    const burstsAfter = (readFileSync(logFile, 'utf8').match(BURST_STARTED) ?? []).length - burstsBefore;
    const applied = [...readFileSync(logFile, 'utf8').matchAll(/event log: applied (\d+) change/g)].map(m => Number(m[1]));
    console.log(
      `Outage: ${made} changes made during a ${Math.round((restartedAt - stoppedAt) / 1000)} s outage; all visible ` +
        `${s(consistentAt - restartedAt)} after the restart (${s(consistentAt - listeningAt)} after the backend listened, ` +
        `the follower's delta published ${appliedAt ? s(appliedAt - listeningAt) : '?'} after it); ` +
        `walk bursts after the restart: ${burstsAfter}; events applied from the log: ${applied.at(-1) ?? 0}`,
    );
    if (burstsAfter > 0) process.exitCode = 2;
  } finally {
    await backend.stop();
    await demo.stop();
    if (process.argv.includes('--keep')) console.log(`Backend log: ${logFile}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
