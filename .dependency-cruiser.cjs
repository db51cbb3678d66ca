/**
 * Dependency rules (`npm run deps`): the libs form layers, each importing only its own layer or lower ones,
 *   0  contracts, platform, signing, url-safety, testing, tracing   (no other lib, but platform starts tracing)
 *   1  persistence, jetstream
 *   2  event-store, event-catalogue, providers, storage
 *   3  delivery, ingest
 * and the apps sit on top. A lib never imports an app, an app never imports another app, nothing under libs/ or
 * apps/ imports from test/, only tests import @hookhub/testing, and there are no cycles.
 * `@hookhub/<lib>` resolves through tsconfig.json's paths, so an alias and a relative path are the same edge.
 */
const LAYERS = [
  ['contracts', 'platform', 'signing', 'url-safety', 'testing', 'tracing'],
  ['persistence', 'jetstream'],
  ['event-store', 'event-catalogue', 'providers', 'storage'],
  ['delivery', 'ingest'],
];

const libsOf = (names) => `^libs/(${names.join('|')})/`;

/** One rule per layer but the top: its libs may not import a lib of a higher layer. */
const layerRules = LAYERS.slice(0, -1).map((layer, i) => {
  const higher = LAYERS.slice(i + 1).flat();
  return {
    name: `layer-${i}-imports-upward`,
    comment: `${layer.join(', ')} (layer ${i}) may import only libs of layer ${i} or lower, never ${higher.join(', ')}`,
    severity: 'error',
    from: { path: libsOf(layer) },
    to: { path: libsOf(higher) },
  };
});

// Files that are tests: unit specs next to the code, repository specs, and everything under test/.
const TEST_FILES = ['\\.spec\\.ts$', '\\.repo-spec\\.ts$', '^test/'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes module load order decide whether an import is still undefined.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'lib-imports-app',
      comment: 'Libs are what apps are built from; an app is never a dependency.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'app-imports-other-app',
      comment: 'Each app is deployed on its own; what two apps share belongs in a lib.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'code-imports-test-tree',
      comment: 'test/ holds the integration suites and their harness; what a lib or app spec needs from it belongs in libs/testing.',
      severity: 'error',
      from: { path: '^(libs|apps)/' },
      to: { path: '^test/' },
    },
    {
      name: 'production-imports-testing',
      comment: '@hookhub/testing (signers, factories) is for tests only and pulls in devDependencies.',
      severity: 'error',
      from: { path: '^(libs|apps)/', pathNot: [...TEST_FILES, '^libs/testing/'] },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'production-imports-dev-dependency',
      comment: 'The image keeps only dependencies (npm prune --omit=dev); a devDependency in running code fails at start.',
      severity: 'error',
      // apps/portal is bundled by Vite into dist/portal at build time: nothing of it is loaded from node_modules when the apps run.
      from: { path: '^(libs|apps)/', pathNot: [...TEST_FILES, '^libs/testing/', '^apps/portal/'] },
      // pino-pretty (LOG_PRETTY, development) is required on demand; without it the app stops with one line saying so.
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'], pathNot: '^node_modules/pino-pretty/' },
    },
    {
      name: 'sdk-imports-monorepo',
      comment: 'libs/sdk is published on its own (npm pack): it may import only itself and its package.json dependencies.',
      severity: 'error',
      from: { path: '^libs/sdk/' },
      to: { path: '^(libs/(?!sdk/)|apps/|test/)' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // libs/sdk/dist: what `npm pack` of the SDK builds.
    exclude: { path: '^(dist|coverage|libs/sdk/dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default'], extensions: ['.ts', '.tsx', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
