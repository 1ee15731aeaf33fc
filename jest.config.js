// Plain jest + @swc/jest (no backstage-cli). msw 2 and p-retry ship ESM-only dependencies:
// let swc transform them to CommonJS like our own sources.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  },
];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  transform: { '^.+\\.(m?[jt]s)$': swc },
  transformIgnorePatterns: [
    '/node_modules/(?!(until-async|rettime|p-retry|is-network-error)/)(?!.*\\.mjs$)',
  ],
  testTimeout: 60_000,
};
