/**
 * Two builds' full walks side by side, alternating, against ONE demo authentik:
 *
 *   npm run bench:compare -- <checkout A> <checkout B> [--rounds N] [--cold-server]
 *
 * This machine's speed drifts within the hour, so a figure from `npm run bench` an hour
 * ago does not compare with one now. Each checkout (a `git worktree` of another commit,
 * with `node_modules` linked or installed) walks 100,000 users / 5,000 groups at 20 ms
 * with its own `bench/walkWorker.ts`, in turn (A B, B A, …), and the medians are printed.
 * Warm server by default (see `npm run bench`); `--cold-server` forgets every serialized
 * user before each walk.
 */
import path from 'node:path';
import { generateSyntheticDirectory, startDemoAuthentik } from '../dev/demo-authentik';
import type { WalkWorkerInput } from './walkProtocol';
import { median, runWalkWorker } from './walkRunner';
import { warmUp } from './warmUp';

const TOKEN = 'bench-token';
const USERS = 100_000;
const GROUPS = 5_000;
const LATENCY_MS = 20;
const PAGE_SIZE = 100;

interface Sample {
  wallMs: number;
  cpuMs: number;
  rssGrowthMiB: number;
  serverCpuMs: number;
}

function parseArgs(argv: string[]): { checkouts: [string, string]; rounds: number; coldServer: boolean } {
  const checkouts: string[] = [];
  let rounds = 4;
  let coldServer = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cold-server') coldServer = true;
    else if (argv[i] === '--rounds') rounds = Number(argv[++i]);
    else checkouts.push(path.resolve(argv[i]));
  }
  if (checkouts.length !== 2 || !(rounds >= 1)) {
    process.stderr.write('usage: npm run bench:compare -- <checkout A> <checkout B> [--rounds N] [--cold-server]\n');
    process.exit(2);
  }
  return { checkouts: [checkouts[0], checkouts[1]], rounds, coldServer };
}

async function main(): Promise<void> {
  const { checkouts, rounds, coldServer } = parseArgs(process.argv.slice(2));
  const directory = generateSyntheticDirectory({ users: USERS, groups: GROUPS, seed: 42 });
  let maxUserPk = 0;
  for (const user of directory.userRecords()) maxUserPk = Math.max(maxUserPk, user.pk);
  const server = await startDemoAuthentik({ directory, token: TOKEN, latencyMs: LATENCY_MS, maxPageSize: PAGE_SIZE });
  await warmUp(server.url, TOKEN, PAGE_SIZE, coldServer);
  const input: WalkWorkerInput = { baseUrl: server.url, token: TOKEN, pageSize: PAGE_SIZE, concurrency: 8, maxUserPk, sampleMs: 20 };
  const samples = new Map<string, Sample[]>(checkouts.map(checkout => [checkout, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const checkout of round % 2 === 0 ? checkouts : [...checkouts].reverse()) {
        if (coldServer) server.forgetSerializedUsers();
        const serverCpu = process.cpuUsage();
        const result = await runWalkWorker(input, checkout);
        const { user, system } = process.cpuUsage(serverCpu);
        if (!result.ok) throw new Error(`${checkout}: ${result.error}`);
        const sample = {
          wallMs: result.wallMs,
          cpuMs: result.cpu.userMs + result.cpu.systemMs,
          rssGrowthMiB: (result.memory.maxRss - result.memory.rssBaseline) / 1024 / 1024,
          serverCpuMs: (user + system) / 1000,
        };
        samples.get(checkout)!.push(sample);
        console.log(
          `${path.basename(checkout)}: ${(sample.wallMs / 1000).toFixed(2)} s, walk CPU ${(sample.cpuMs / 1000).toFixed(2)} s, ` +
            `RSS growth ${sample.rssGrowthMiB.toFixed(1)} MiB, server CPU ${(sample.serverCpuMs / 1000).toFixed(2)} s`,
        );
      }
    }
  } finally {
    await server.stop();
  }
  console.log(`\nMedians of ${rounds} walks each, 100,000 users / 5,000 groups, 20 ms, c=8, ${coldServer ? 'cold' : 'warm'} server:`);
  for (const [checkout, runs] of samples) {
    console.log(
      `  ${checkout}: wall ${(median(runs.map(r => r.wallMs)) / 1000).toFixed(2)} s, walk CPU ${(median(runs.map(r => r.cpuMs)) / 1000).toFixed(2)} s, ` +
        `RSS growth ${median(runs.map(r => r.rssGrowthMiB)).toFixed(1)} MiB, server CPU ${(median(runs.map(r => r.serverCpuMs)) / 1000).toFixed(2)} s`,
    );
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
