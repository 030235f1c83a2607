/**
 * Sub-message fields for the hand-written LLB encoders (op-encoding.ts, exec-op-encoding.ts), as
 * protobufjs' generated `encode` writes them: a message field is written whenever it is non-null
 * (even when empty), length-delimited; a repeated one once per element. The element writer is
 * passed in, always a module-level function of the encoders, so no closure is made per field.
 */
import { LEN } from './proto-wire-writer.js';
import type { ProtoWriter } from './proto-writer.js';

export function message<T>(w: ProtoWriter, field: number, m: T | null | undefined, write: (w: ProtoWriter, m: T) => void): void {
  if (m == null) return;
  w.tag(field, LEN);
  const at = w.fork();
  write(w, m);
  w.ldelim(at);
}

/**
 * `message` for a message usually 128 bytes to 16 KiB long (an ExecOp and its Meta: args and env):
 * two length bytes reserved, so it is not moved when its length is written (ProtoWriter.fork2).
 */
export function largeMessage<T>(w: ProtoWriter, field: number, m: T | null | undefined, write: (w: ProtoWriter, m: T) => void): void {
  if (m == null) return;
  w.tag(field, LEN);
  const at = w.fork2();
  write(w, m);
  w.ldelim2(at);
}

export function messages<T>(w: ProtoWriter, field: number, ms: readonly T[] | null | undefined, write: (w: ProtoWriter, m: T) => void): void {
  if (ms == null) return;
  for (let i = 0; i < ms.length; i++) {
    w.tag(field, LEN);
    const at = w.fork();
    write(w, ms[i] as T);
    w.ldelim(at);
  }
}
