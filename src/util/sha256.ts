/**
 * SHA-256 (FIPS 180-4) in plain JavaScript, for a short input on a path that must not load
 * node:crypto: requiring it loads 16 built-in modules, ~2 ms CPU, and a no-op build through the
 * daemon otherwise hashes nothing but its context key (issue 10's client start-up). For anything
 * large use node:crypto: this runs at a small fraction of its speed. The round constants are the
 * first 32 bits of the fractional parts of the cube roots of the first 64 primes, and the initial
 * hash those of the square roots of the first 8, computed here as the standard defines them
 * (test/util/sha256.test.ts checks every digest against node:crypto).
 */

let tables: { readonly k: Uint32Array; readonly init: Uint32Array } | undefined;

function constants(): NonNullable<typeof tables> {
  if (tables) return tables;
  const primes: number[] = [];
  for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
  const frac32 = (x: number): number => Math.floor((x - Math.floor(x)) * 2 ** 32) >>> 0;
  tables = { k: Uint32Array.from(primes, (p) => frac32(Math.cbrt(p))), init: Uint32Array.from(primes.slice(0, 8), (p) => frac32(Math.sqrt(p))) };
  return tables;
}

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/** The SHA-256 digest of `input` (a string as UTF-8), as 64 lower-case hex digits. */
export function sha256Hex(input: string | Uint8Array): string {
  const { k, init } = constants();
  const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  // The message, a 1 bit, zeros, and its length in bits as 64 bits big-endian: a multiple of 64 octets.
  const blocks = new Uint8Array(Math.ceil((data.byteLength + 9) / 64) * 64);
  blocks.set(data);
  blocks[data.byteLength] = 0x80;
  const view = new DataView(blocks.buffer);
  view.setUint32(blocks.byteLength - 8, Math.floor(data.byteLength / 2 ** 29));
  view.setUint32(blocks.byteLength - 4, (data.byteLength * 8) >>> 0);
  const h = Uint32Array.from(init);
  const w = new Uint32Array(64);
  for (let at = 0; at < blocks.byteLength; at += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(at + i * 4);
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15] as number;
      const y = w[i - 2] as number;
      w[i] = (w[i - 16] as number) + (rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3)) + (w[i - 7] as number) + (rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10));
    }
    let [a, b, c, d, e, f, g, hh] = h as unknown as [number, number, number, number, number, number, number, number];
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + (k[i] as number) + (w[i] as number)) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    [a, b, c, d, e, f, g, hh].forEach((v, i) => {
      h[i] = (h[i] as number) + v;
    });
  }
  return Array.from(h, (v) => v.toString(16).padStart(8, '0')).join('');
}
