/** Jest only transpiles (swc); `tsc --noEmit` is the type gate. */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    }],
  },
  testTimeout: 60000,
  // Strict mode (TSBUILD_STRICT_TESTS=1, CI): stop at once when the machine lacks a requirement,
  // and fail the run when any test was skipped. Locally: a summary of what was skipped and why.
  globalSetup: '<rootDir>/test/helpers/global-setup.mjs',
  reporters: ['default', '<rootDir>/test/helpers/skip-reporter.mjs'],
  // Tests that mount, run runc or start servers share the machine; keep them from starving each other.
  maxWorkers: 2,
};
