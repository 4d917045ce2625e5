/**
 * The layers of src/ (docs/development.md), checked by `npm run lint:deps` in CI:
 *   server / transports → schema → services → db, realtime → agent → errors, ids, config, logger
 * Imports point down only, and there are no cycles.
 */
const layer = (name) => `^src/${name}(/|\\.ts$)`;
const BOTTOM = '^src/(errors|ids|logger|config|config-[a-z-]+)\\.ts$';

const mustNotImport = (name, from, to, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: to },
});

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A runtime cycle means two modules cannot be understood or tested apart: split out a leaf module.',
      severity: 'error',
      from: { path: '^src/' },
      // Runtime cycles: a loop closed only by `import type` costs nothing at run time.
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    mustNotImport('services-above', layer('services'), `${layer('schema')}|${layer('transports')}|${layer('server')}|${layer('app')}`, 'Services never import the GraphQL layer or the server.'),
    mustNotImport('db-realtime-above', `${layer('db')}|${layer('realtime')}`, `${layer('services')}|${layer('schema')}|${layer('transports')}|${layer('server')}|${layer('app')}`, 'db/ and realtime/ serve the services; they do not call them.'),
    mustNotImport('agent-above', layer('agent'), `${layer('services')}|${layer('schema')}|${layer('transports')}|${layer('server')}|${layer('app')}|${layer('db')}|${layer('realtime')}`, 'The agent loop gets its data and effects from its caller (services/runs).'),
    mustNotImport('schema-above', layer('schema'), `${layer('transports')}|${layer('server')}|${layer('app')}|^src/main\\.ts$`, 'The schema does not know how it is served.'),
    {
      name: 'bottom-stays-bottom',
      comment: 'errors, ids, config and logger import nothing of src/ but each other.',
      severity: 'error',
      from: { path: BOTTOM },
      to: { path: '^src/', pathNot: BOTTOM },
    },
    mustNotImport('no-main', '^src/', '^src/main\\.ts$', 'main.ts is the entry point; nothing imports it.'),
    mustNotImport('no-tests-in-src', '^src/', '^(test|bench|scripts)/', 'The server never imports tests, benchmarks or scripts.'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
