/**
 * Running one measured walk in its own process (`walkWorker.ts` of a checkout), shared by
 * `npm run bench` and `npm run bench:compare`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { WalkWorkerInput, WalkWorkerResult } from './walkProtocol';

const WORKER_TIMEOUT_MS = 20 * 60_000;
const ROOT = path.resolve(__dirname, '..');

/**
 * Walks once with `checkout`'s worker (this checkout by default), in a fresh Node process,
 * with `BENCH_WORKER_NODE_FLAGS` (e.g. `--cpu-prof`) before the worker's own flags.
 */
export function runWalkWorker(input: WalkWorkerInput, checkout = ROOT): Promise<WalkWorkerResult> {
  const flags = process.env.BENCH_WORKER_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const worker = path.join(checkout, 'bench', 'walkWorker.ts');
  return new Promise(resolve => {
    const child = spawn(process.execPath, [...flags, '--expose-gc', '--import', 'tsx', worker, JSON.stringify(input)], {
      cwd: checkout,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', chunk => (stdout += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_TIMEOUT_MS);
    child.on('error', error => {
      clearTimeout(timer);
      resolve({ ok: false, error: `could not start the worker: ${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as WalkWorkerResult);
      } catch {
        resolve({
          ok: false,
          error: `worker exited (${signal ?? `code ${code}`}) without a result${line ? `; last output: ${line.slice(0, 300)}` : ''}`,
        });
      }
    });
  });
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
