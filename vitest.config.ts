import { defineConfig } from 'vitest/config';

// Three suites, one runner. Integration and end-to-end tests share one Docker engine, so
// their files run one at a time.
export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      // MicroLab on Podman: only when a Podman service is named (.ci/run runs it as its own step).
      ...(process.env.MICROLAB_PODMAN_HOST
        ? [
            {
              test: {
                name: 'podman',
                include: ['test/podman/**/*.test.ts'],
                fileParallelism: false,
                testTimeout: 300_000,
                hookTimeout: 300_000,
              },
            },
          ]
        : []),
      // The other architecture's images, built and run emulated: only when asked (.ci/run's arm64 step).
      ...(process.env.MICROLAB_ARM64 === '1'
        ? [
            {
              test: {
                name: 'arm64',
                include: ['test/arm64/**/*.test.ts'],
                fileParallelism: false,
                testTimeout: 1_800_000,
                hookTimeout: 300_000,
              },
            },
          ]
        : []),
      // An engine restart: only when asked (.ci/run runs it last, on the dockerd it started).
      ...(process.env.MICROLAB_ENGINE_RESTART === '1'
        ? [
            {
              test: {
                name: 'engine-restart',
                include: ['test/engine-restart/**/*.test.ts'],
                fileParallelism: false,
                testTimeout: 300_000,
                hookTimeout: 300_000,
              },
            },
          ]
        : []),
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
