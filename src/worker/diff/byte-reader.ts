/**
 * Pulls exact byte counts out of a chunked stream without buffering more than one input chunk
 * (plus one header block when a header straddles two chunks).
 */
const EMPTY = Buffer.alloc(0);

export class ByteReader {
  private chunk: Buffer = EMPTY;
  private pos = 0;
  private ended = false;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** False at the end of the stream. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.ended) return false;
      const r = await this.source.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      const v = r.value;
      this.chunk = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.pos = 0;
    }
    return true;
  }

  /**
   * Exactly `n` bytes; `undefined` when the stream ended before the first byte; `'short'` when it
   * ended part-way.
   */
  async readExact(n: number): Promise<Buffer | undefined | 'short'> {
    if (!(await this.fill())) return undefined;
    if (this.chunk.length - this.pos >= n) {
      const out = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    const out = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      if (!(await this.fill())) return 'short';
      const take = Math.min(n - got, this.chunk.length - this.pos);
      this.chunk.copy(out, got, this.pos, this.pos + take);
      this.pos += take;
      got += take;
      this.offset += take;
    }
    return out;
  }

  /** Up to `max` bytes from the current chunk (no copy); undefined at the end of the stream. */
  async readSome(max: number): Promise<Buffer | undefined> {
    if (!(await this.fill())) return undefined;
    const take = Math.min(max, this.chunk.length - this.pos);
    const out = this.chunk.subarray(this.pos, this.pos + take);
    this.pos += take;
    this.offset += take;
    return out;
  }

  /** Skips `n` bytes; false when the stream ended first. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      const b = await this.readSome(left);
      if (!b) return false;
      left -= b.length;
    }
    return true;
  }

  /** Consumes the rest of the stream; returns how many bytes that was. */
  async drain(): Promise<number> {
    let n = 0;
    for (;;) {
      const b = await this.readSome(Number.MAX_SAFE_INTEGER);
      if (!b) return n;
      n += b.length;
    }
  }
}
