/** Unit tests live next to the code (`*.spec.ts`); integration and end-to-end tests under test/ use real NATS and PostgreSQL. */
// Transpile only: `npm test` type-checks the whole tree with tsc first.
const tsJest = ['ts-jest', { diagnostics: false }];

const moduleNameMapper = {
  '^@hookhub/([a-z-]+)$': '<rootDir>/libs/$1/src',
};

const common = { transform: { '^.+\\.ts$': tsJest }, moduleNameMapper, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
// NATS and PostgreSQL: the running services, or containers when none is configured and a Docker engine is reachable.
const services = { globalSetup: '<rootDir>/test/support/containers.ts', globalTeardown: '<rootDir>/test/support/containers.ts' };

module.exports = {
  // The apps under test log to a file per test file; the second reporter shows its tail when that file fails.
  reporters: ['default', '<rootDir>/test/support/log-tail-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/test/soak/**/*.spec.ts'] },
    // Repository tests ("medium" tier): the SQL of libs/persistence on a real PostgreSQL, without the apps.
    {
      ...common,
      ...services,
      displayName: 'repositories',
      testMatch: ['<rootDir>/libs/persistence/**/*.repo-spec.ts', '<rootDir>/libs/storage/**/*.repo-spec.ts'],
    },
    {
      ...common,
      ...services,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
    },
    {
      ...common,
      ...services,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
      setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
    },
    // The chaos soak (test/soak): everything as processes under random faults; `npm run soak` runs it longer.
    {
      ...common,
      ...services,
      displayName: 'soak',
      testMatch: ['<rootDir>/test/soak/**/*.soak-spec.ts'],
      setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
    },
  ],
};
