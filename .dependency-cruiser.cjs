// The direction of src/'s imports, checked by `npx depcruise src` (and test/dependencies.unit.test.ts):
// down the pipeline only, with no circle. Each layer may import the layers before it, never one
// after it; the layers of one step are siblings that do not import each other.
/** @type {{ name: string, path: string }[][]} bottom first */
const LAYERS = [
  // What everything stands on: errors, money, dates, logging, the vocabulary, plain file helpers.
  [{ name: 'base', path: '^src/(errors|money|dates|redact|log|vocabulary|package-root|terminal|progress|csv-cells|input-file)\\.ts$' }],
  [{ name: 'config', path: '^src/(config\\.ts$|config/)' }],
  [{ name: 'db', path: '^src/db/' }],
  // The pipeline: what comes in, what KBank says, the rules, what stays open, what goes out.
  [{ name: 'ingest', path: '^src/ingest/' }],
  [{ name: 'gateway', path: '^src/gateway/' }],
  [{ name: 'notify', path: '^src/notify/' }],
  [{ name: 'reconcile', path: '^src/reconcile/' }],
  [{ name: 'followup', path: '^src/followup/' }],
  [
    { name: 'report', path: '^src/report/' },
    { name: 'finance', path: '^src/finance/' },
  ],
  // A run: its request, its stages, its record.
  [{ name: 'run', path: '^src/run/' }],
  // Beside the pipeline: what reads the runs' record, and the stand-ins for KBank and the shop.
  [
    { name: 'status', path: '^src/status/' },
    { name: 'simulator', path: '^src/simulator/' },
  ],
  [{ name: 'sample', path: '^src/sample/' }],
  // Entry points.
  [{ name: 'worker', path: '^src/worker/' }],
  [{ name: 'commands', path: '^src/commands/' }],
  [{ name: 'cli', path: '^src/cli\\.ts$' }],
];

/** kysely's one file per table: the schema's interface names every table's types, wherever they live. */
const SCHEMA = '^src/db/database\\.ts$';
const TABLE_TYPES = '\\.table\\.ts$';

const either = (layers) => layers.map((l) => `(${l.path})`).join('|');

const upward = LAYERS.flatMap((step, i) => {
  const above = LAYERS.slice(i + 1).flat();
  return above.length === 0
    ? []
    : step.map((layer) => ({
        name: `up-from-${layer.name}`,
        comment: `${layer.name} imports a layer above it (up the pipeline)`,
        severity: 'error',
        from: { path: layer.path, pathNot: SCHEMA },
        to: { path: either(above) },
      }));
});

const sideways = LAYERS.flatMap((step) =>
  step.map((layer) => ({
    name: `across-from-${layer.name}`,
    comment: `${layer.name} imports a sibling layer`,
    severity: 'error',
    from: { path: layer.path },
    to: { path: either(step.filter((other) => other !== layer)) },
  })),
).filter((rule) => rule.to.path !== '');

const dbUp = either(LAYERS.slice(LAYERS.findIndex((step) => step.some((l) => l.name === 'db')) + 1).flat());

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a module that imports, through others, itself',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    ...sideways,
    // The one exception: `Database` gathers the table types, type-only, from the code that owns each table.
    {
      name: 'schema-beyond-table-types',
      comment: 'db/database.ts imports more than the type of a table from above',
      severity: 'error',
      from: { path: SCHEMA },
      to: { path: dbUp, pathNot: TABLE_TYPES },
    },
    {
      name: 'schema-table-values',
      comment: 'db/database.ts imports a table file for more than its types',
      severity: 'error',
      from: { path: SCHEMA },
      to: { path: dbUp, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are arrows too: a reader follows them like any other.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.(css|html|js)$' },
  },
};
