/**
 * A process that changes the progress file (test/unit/progress-store.test.ts runs several at
 * once). `node worker.js FILE NAME COUNT [STALE_MS]`: COUNT changes, each adding one to a
 * shared attempt counter and one answer of its own. `node worker.js FILE NAME hold`: takes
 * the lock, says "holding" and never lets go (the test kills it).
 */
import { ProgressStore, stepProgress } from '../electron/labs/progress';

const [file, name, count, staleMs] = process.argv.slice(2) as [string, string, string, string?];
const store = new ProgressStore(file, 'student', staleMs ? { staleMs: Number(staleMs) } : {});

if (count === 'hold') {
  await store.update(async () => {
    process.stdout.write('holding\n');
    // Held until killed (a timer keeps the process alive; a pending promise alone would not).
    setInterval(() => undefined, 60_000);
    await new Promise(() => undefined);
  });
} else {
  for (let i = 0; i < Number(count); i++) {
    await store.update((data) => {
      const step = stepProgress(data, 'hammer', 'step');
      step.attempts += 1;
      step.answers[`${name}-${i}`] = String(i);
    });
  }
}
process.exit(0);
