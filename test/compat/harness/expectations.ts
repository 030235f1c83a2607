/**
 * Checks a case's expectations against a flattened result. They pin down what each case is about
 * (a whiteout really removed the file, the setuid bit is really there), so a case cannot pass by
 * both builders silently doing nothing.
 */
import { createHash } from 'node:crypto';
import { assertNever } from '../../../src/util/errors.js';
import type { Flattened } from '../../helpers/fs-flatten.js';
import { describeEntry } from './compare.js';
import type { Expectation } from './types.js';

/** The unmet expectations, one readable line each (empty when all hold). */
export function checkExpectations(expectations: readonly Expectation[], flat: Flattened): string[] {
  const out: string[] = [];
  for (const x of expectations) {
    const e = flat.fs.get(x.path);
    switch (x.kind) {
      case 'absent':
        if (e) out.push(`${x.path}: expected absent, found ${describeEntry(e)}`);
        break;
      case 'removed':
        if (!flat.removedByLayer.some((r) => r.includes(x.path))) out.push(`${x.path}: expected a layer to remove it (whiteout or opaque dir), none did`);
        break;
      case 'entry': {
        if (!e) {
          out.push(`${x.path}: expected ${x.type ?? 'an entry'}, found nothing`);
          break;
        }
        const bad: string[] = [];
        if (x.type !== undefined && e.type !== x.type) bad.push(`type ${e.type} != ${x.type}`);
        if (x.mode !== undefined && e.mode !== parseInt(x.mode, 8)) bad.push(`mode ${e.mode.toString(8).padStart(4, '0')} != ${x.mode}`);
        if (x.uid !== undefined && e.uid !== x.uid) bad.push(`uid ${e.uid} != ${x.uid}`);
        if (x.gid !== undefined && e.gid !== x.gid) bad.push(`gid ${e.gid} != ${x.gid}`);
        if (x.content !== undefined && e.sha256 !== createHash('sha256').update(x.content).digest('hex')) bad.push(`content differs from ${JSON.stringify(x.content)}`);
        if (x.linkname !== undefined && e.linkname !== x.linkname) bad.push(`linkname ${JSON.stringify(e.linkname)} != ${JSON.stringify(x.linkname)}`);
        if (x.hardlinks !== undefined && (e.hardlinks ?? []).join(',') !== [...x.hardlinks].sort().join(',')) bad.push(`hardlinks [${(e.hardlinks ?? []).join(',')}] != [${[...x.hardlinks].sort().join(',')}]`);
        if (bad.length > 0) out.push(`${x.path}: ${bad.join('; ')} (found ${describeEntry(e)})`);
        break;
      }
      default:
        assertNever(x, 'expectation');
    }
  }
  return out;
}
