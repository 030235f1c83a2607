/**
 * Layer boundaries (docs/architecture.md, DESIGN.md) and the circular-import check. Run by
 * `npm run lint` in CI. Type-only imports count (tsPreCompilationDeps) unless a rule says otherwise.
 *
 * The client seam: the command line reaches the engine only through src/client; the client reaches
 * it only through the engine's entry (src/engine/index.ts) and imports no code of the layers
 * below; the engine never imports the client. See src/client/types.ts.
 */
const layer = (name) => `^src/${name}/`;
const forbid = (name, from, to, comment) => ({ name, severity: 'error', comment, from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no circular imports', from: {}, to: { circular: true } },
    forbid('solver-is-generic', layer('solver'), '^src/(frontend|worker|exporter|registry|engine|control|client|report)/',
      'the solver knows ops only through interfaces; it never imports frontend, worker or exporter code'),
    { name: 'solver-no-cache-or-llb-code', severity: 'error',
      comment: 'the solver imports no cache or LLB implementation code: at most types, from their types.ts, with `import type`',
      from: { path: layer('solver') }, to: { path: '^src/(cache|llb)/', dependencyTypesNot: ['type-only'] } },
    { name: 'solver-cache-llb-types-from-types-ts', severity: 'error',
      comment: 'the only cache and LLB modules the solver may name (type-only) are their types.ts',
      from: { path: layer('solver') }, to: { path: '^src/(cache|llb)/', pathNot: '^src/(cache|llb)/types\\.ts$' } },
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
    { name: 'cmd-through-client', severity: 'error',
      comment: 'the command line reaches the engine only through the Client interface (src/client); besides it, only '
        + 'progress (renderers), util, the version and the image-reference grammar (src/oci/reference.ts: a pure leaf, to '
        + 'show names the docker way)',
      from: { path: '^cmd/' },
      to: { path: '^src/', pathNot: '^src/(client|control|progress|report|util)/|^src/version\\.ts$|^src/oci/reference\\.ts$' } },
    forbid('report-is-presentation', '^src/report/', '^src/(?!client/|util/|report/)',
      'src/report renders reports from the client contract (PastBuild, compare results); it computes nothing from the store'),
    forbid('cli-not-daemon', '^cmd/(tsbuild\\.ts$|cli/|commands/)', '^src/control/',
      'the tsbuild CLI is a client; only tsbuildd hosts the gRPC server (src/control)'),
    forbid('engine-not-client', '^src/engine/', '^src/(client|control)/',
      'the engine does not know its clients: the contract mirrors the engine\'s method types, not the reverse'),
    forbid('client-no-lower-code', '^src/client/', '^src/(cache|worker|solver|registry|frontend|exporter|llb|control|report)/',
      'the client holds the contract and the clients: it reaches lower layers only through the engine entry'),
    { name: 'client-through-engine-entry', severity: 'error',
      comment: 'the embedded client constructs the engine through its one public module, src/engine/index.ts',
      from: { path: '^src/client/' }, to: { path: '^src/engine/', pathNot: '^src/engine/index\\.ts$' } },
    { name: 'client-oci-types-only', severity: 'error',
      comment: 'the contract may name OCI image-spec types (pure data every layer may use), never import code from src/oci',
      from: { path: '^src/client/' }, to: { path: '^src/oci/', dependencyTypesNot: ['type-only'] } },
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
