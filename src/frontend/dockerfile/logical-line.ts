/**
 * A logical line: the physical lines of one instruction joined after their continuation escape
 * was removed, remembering where each piece came from so that an offset in the joined text can
 * be reported as a physical line and column.
 */

export interface PhysicalPosition {
  /** 1-based physical line. */
  readonly line: number;
  /** 0-based UTF-16 index in that line (as shown to the user, BOM and terminator removed). */
  readonly index: number;
}

export class LogicalLine {
  private joined = '';
  /**
   * The pieces while more are being appended (made by the first `append`), joined once when the
   * text is read: `+=` made a rope of one object per piece (and a wrapper once it was sliced) that
   * lived in the node's `original` through the whole conversion, for the collector to copy.
   */
  private pieces: string[] | undefined;
  private length: number;
  /**
   * Pieces after the first, as parallel arrays: offset in the joined text, physical line, index in
   * that line. Made by the first `append`: most instructions have one piece, and three arrays per
   * instruction were garbage for nothing.
   */
  private offsets: number[] | undefined;
  private lines: number[] | undefined;
  private indexes: number[] | undefined;
  private firstIndex = 0;
  /** 1-based last physical line read for this instruction (continuations, later heredoc bodies). */
  endLine: number;

  constructor(readonly startLine: number, firstPiece: string, firstIndex: number) {
    this.joined = firstPiece;
    this.length = firstPiece.length;
    this.firstIndex = firstIndex;
    this.endLine = startLine;
  }

  get text(): string {
    if (this.pieces !== undefined) {
      // One flat string (a join of several pieces is made flat, at its final length).
      this.joined = this.pieces.join('');
      this.pieces = undefined;
    }
    return this.joined;
  }

  /** Appends `piece`, which starts at the beginning of physical line `line`. */
  append(piece: string, line: number): void {
    (this.offsets ??= []).push(this.length);
    (this.lines ??= []).push(line);
    (this.indexes ??= []).push(0);
    if (this.pieces === undefined) this.pieces = [this.text];
    this.pieces.push(piece);
    this.length += piece.length;
    this.endLine = line;
  }

  /** The physical position of an offset in the joined text (offsets past the end clamp to it). */
  locate(offset: number): PhysicalPosition {
    // Binary search for the last piece starting at or before offset (an empty piece never owns
    // its offset when a later piece starts at the same place).
    const { offsets, lines, indexes } = this;
    let lo = -1; // the first piece
    let hi = offsets === undefined ? -1 : offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (((offsets as number[])[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    if (lo < 0 || offsets === undefined || lines === undefined || indexes === undefined) return { line: this.startLine, index: this.firstIndex + Math.max(0, offset) };
    return { line: lines[lo] as number, index: (indexes[lo] as number) + Math.max(0, offset - (offsets[lo] as number)) };
  }
}
