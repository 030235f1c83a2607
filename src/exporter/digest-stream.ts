/** Pass-through streams that measure what flows through them (sha256 digest and byte count). */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  /** Valid once the stream has ended. */
  result(): { digest: string; size: number } {
    return { digest: `sha256:${this.hash.copy().digest('hex')}`, size: this.bytes };
  }
}
