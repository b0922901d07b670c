import { defineConfig } from 'vitest/config';

// Tests train real (small) models and spawn real processes: generous timeouts, no timing asserts.
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } });
