/**
 * The server's settings (RFC 9113 §6.5) that the client's own connection (connection.ts) obeys when
 * it sends: how many streams it may have open, the send window a new stream starts with, and the
 * largest frame payload. Read from the server's SETTINGS frames, checked as §6.5.2 bounds them; a
 * change of the initial window also moves the send window of every open stream (§6.9.2), which the
 * connection is told of. The settings the client does not act on are read past: the encoder never
 * indexes (HEADER_TABLE_SIZE), and push is off.
 */
import { ConnectionError, DEFAULT_MAX_FRAME, DEFAULT_WINDOW, FLAG, H2_ERROR, MAX_WINDOW, SETTING, type Frame } from './frames.js';

export class PeerSettings {
  /**
   * Until the server's first SETTINGS, one stream at a time: a server with a lower limit than the
   * calls started at once would refuse the rest (REFUSED_STREAM), and its limit is not known yet.
   */
  #maxStreams = 1;
  #initialWindow = DEFAULT_WINDOW;
  #maxFrame = DEFAULT_MAX_FRAME;
  #seen = false;
  readonly #onWindowDelta: (delta: number) => void;

  /** `onWindowDelta`: the initial stream window moved by `delta` octets (called before the frame's next setting is read). */
  constructor(onWindowDelta: (delta: number) => void) {
    this.#onWindowDelta = onWindowDelta;
  }

  /** SETTINGS_MAX_CONCURRENT_STREAMS (one until the first SETTINGS, then unlimited unless it names one). */
  get maxStreams(): number {
    return this.#maxStreams;
  }

  /** SETTINGS_INITIAL_WINDOW_SIZE: the send window of a stream when it opens. */
  get initialWindow(): number {
    return this.#initialWindow;
  }

  /** SETTINGS_MAX_FRAME_SIZE: the largest frame payload this side may send. */
  get maxFrame(): number {
    return this.#maxFrame;
  }

  /** Reads a SETTINGS frame; true when it is to be acknowledged (it is not an acknowledgement itself). */
  read(f: Frame): boolean {
    if (f.streamId !== 0) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (f.flags & FLAG.ACK) {
      if (f.payload.byteLength !== 0) throw new ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'a SETTINGS acknowledgement with a payload');
      return false;
    }
    if (f.payload.byteLength % 6 !== 0) throw new ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'a SETTINGS frame of a partial setting');
    if (!this.#seen) {
      this.#seen = true;
      this.#maxStreams = Number.POSITIVE_INFINITY; // unless the frame names a limit
    }
    for (let at = 0; at < f.payload.byteLength; at += 6) {
      const id = f.payload.readUInt16BE(at);
      const value = f.payload.readUInt32BE(at + 2);
      if (id === SETTING.MAX_CONCURRENT_STREAMS) this.#maxStreams = value;
      else if (id === SETTING.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) throw new ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
        const delta = value - this.#initialWindow;
        this.#initialWindow = value;
        this.#onWindowDelta(delta);
      } else if (id === SETTING.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME || value > 0xffffff) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
        this.#maxFrame = value;
      }
      // HEADER_TABLE_SIZE: the encoder never indexes; ENABLE_PUSH, MAX_HEADER_LIST_SIZE, others: nothing to do.
    }
    return true;
  }
}
