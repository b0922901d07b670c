import { defineConfig } from 'vitest/config';

// Tests train real (small) models and spawn real processes (the end-to-end test ~25 of them), while
// turbo runs the other packages' suites on the same 2 vCPUs: generous timeouts, no timing asserts.
// The fault suite runs its cases two at a time (`describe.concurrent`): each is mostly waiting.
export default defineConfig({ test: { testTimeout: 400_000, hookTimeout: 120_000, maxConcurrency: 2 } });
