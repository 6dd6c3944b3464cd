import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // `npm test` runs test/unit only. Tests against a real Django + object store
    // belong in test/integration/, read S3FF_TEST_API_BASE_URL, and run with
    // `npm run test:integration`.
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
