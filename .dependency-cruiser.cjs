/**
 * Layer boundaries (docs/architecture.md, DESIGN.md) and the circular-import check. Run by
 * `npm run lint` in CI.
 */
const layer = (name) => `^src/${name}/`;
const forbid = (name, from, to, comment) => ({ name, severity: 'error', comment, from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no circular imports', from: {}, to: { circular: true } },
    forbid('solver-is-generic', layer('solver'), '^src/(frontend|worker|exporter|registry|control|client|report)/',
      'the solver knows ops only through interfaces; it never imports frontend, worker or exporter code'),
    forbid('frontend-only-llb', layer('frontend'), '^src/(solver|cache|worker|exporter|registry|control|client|report)/',
      'the frontend produces LLB; it imports llb/oci/util types only'),
    forbid('cache-below-worker', layer('cache'), '^src/(frontend|worker|exporter|registry|control|client|report)/',
      'the cache knows solver types and its own; not the worker or exporter'),
    forbid('worker-not-up', layer('worker'), '^src/(frontend|exporter|control|client|report)/',
      'the worker composes what is below it'),
    forbid('exporter-not-up', layer('exporter'), '^src/(frontend|control|client|report)/', 'exporters sit below the client'),
    forbid('registry-standalone', layer('registry'), '^src/(frontend|solver|cache|worker|exporter|control|client|report)/',
      'the distribution client stands alone'),
    forbid('util-leaf', '^src/(util|oci|llb)/', '^src/(frontend|solver|cache|worker|exporter|registry|control|client|report)/',
      'util, oci and llb are leaves'),
    forbid('src-not-cmd', '^src/', '^cmd/', 'library code never imports the command line'),
    forbid('engine-on-top', '^src/(frontend|solver|cache|worker|exporter|registry|llb|oci|util|progress)/', '^src/(engine|client|control)/',
      'the engine composes the layers below it; nothing below imports it'),
    forbid('progress-below-solver', '^src/progress/', '^src/(frontend|solver|cache|worker|exporter|registry|engine|client|control)/',
      'progress events are a leaf every layer may use'),
    forbid('cmd-through-client', '^cmd/', '^src/(engine|worker|solver|cache)/',
      'the command line reaches the engine only through the Client interface (src/client)'),
    { name: 'grpc-at-the-edge', severity: 'error', comment: 'domain code never imports gRPC; only src/control and src/client do',
      from: { path: '^src/', pathNot: '^src/(control|client)/' }, to: { path: 'node_modules/@grpc/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.d.ts'] },
    exclude: { path: '^src/(llb|client)/gen/' },
  },
};
