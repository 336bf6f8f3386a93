import { performance } from 'node:perf_hooks';
// Stress load: spin the CPU for `cpu_ms`, then wait `wait_ms` on a timer. No fault logic here: faults are
// injected by the kernel's task injection and committed by worker/faults.ts inside this real process.
export default async function stressWorker(input) {
  const cpuMs = Number(input?.cpu_ms ?? 0);
  const waitMs = Number(input?.wait_ms ?? 0);
  let spins = 0;
  if (cpuMs > 0) {
    const end = performance.now() + cpuMs;
    while (performance.now() < end) spins++;
  }
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  return { n: input?.n ?? null, spins };
}
