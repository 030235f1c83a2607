/**
 * Loads the vertices reachable from a target into a graphlib DAG (node = vertex digest, edge =
 * input → dependent) and checks that it is one: digests are unique per vertex and there is no cycle.
 */
import { Graph, alg } from '@dagrejs/graphlib';
import { InvalidGraphError } from './errors.js';
import type { Edge, Vertex } from './types.js';

export interface BuildGraph {
  /** Nodes are vertex digests; an edge runs from an input to the vertex that reads it. */
  readonly graph: Graph;
  /** Digests in dependency order: every vertex after all of its inputs. */
  readonly order: readonly string[];
  readonly vertices: ReadonlyMap<string, Vertex>;
  /** Output indexes of each vertex that something in the graph (or the target) reads. */
  readonly wanted: ReadonlyMap<string, ReadonlySet<number>>;
}

export function loadGraph(target: Edge): BuildGraph {
  const graph = new Graph({ directed: true, multigraph: true });
  const vertices = new Map<string, Vertex>();
  const wanted = new Map<string, Set<number>>();
  const want = (e: Edge): void => {
    if (!Number.isInteger(e.index) || e.index < 0) {
      throw new InvalidGraphError(`edge to ${e.vertex.name} has invalid output index ${e.index}`);
    }
    let s = wanted.get(e.vertex.digest);
    if (!s) wanted.set(e.vertex.digest, (s = new Set()));
    s.add(e.index);
  };

  want(target);
  const stack: Vertex[] = [target.vertex];
  while (stack.length > 0) {
    const v = stack.pop() as Vertex;
    const seen = vertices.get(v.digest);
    if (seen) {
      if (seen !== v && !sameInputs(seen, v)) {
        throw new InvalidGraphError(`two different vertices share digest ${v.digest} (${seen.name}; ${v.name})`);
      }
      continue;
    }
    vertices.set(v.digest, v);
    graph.setNode(v.digest, v.name);
    for (const [i, e] of v.inputs.entries()) {
      want(e);
      // Named edges keep two inputs from the same vertex (e.g. both outputs of one op) apart.
      graph.setEdge(e.vertex.digest, v.digest, e.index, String(i));
      stack.push(e.vertex);
    }
  }

  let order: string[];
  try {
    order = alg.topsort(graph);
  } catch {
    const cycle = alg.findCycles(graph)[0] ?? [];
    throw new InvalidGraphError(`the build graph has a cycle through ${cycle.map((d) => vertices.get(d)?.name ?? d).join(' → ')}`);
  }
  return { graph, order, vertices, wanted };
}

function sameInputs(a: Vertex, b: Vertex): boolean {
  if (a.inputs.length !== b.inputs.length) return false;
  return a.inputs.every((e, i) => e.vertex.digest === b.inputs[i]?.vertex.digest && e.index === b.inputs[i]?.index);
}
