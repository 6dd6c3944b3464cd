/**
 * MD5 (RFC 1321), fed in pieces so that a part is hashed as it is read, never held whole.
 * Browsers' WebCrypto has no MD5, and Content-MD5 is the one checksum every S3-compatible
 * store verifies on a presigned PUT. It guards against corruption, not against an attacker:
 * the presigned URL's signature does that.
 */

const shifts = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 4,
  11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];
const constants = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);
const wordIndex = Uint8Array.from({ length: 64 }, (_, i) => {
  if (i < 16) return i;
  if (i < 32) return (5 * i + 1) % 16;
  if (i < 48) return (3 * i + 5) % 16;
  return (7 * i) % 16;
});

export class Md5 {
  private a = 0x67452301;
  private b = 0xefcdab89 | 0;
  private c = 0x98badcfe | 0;
  private d = 0x10325476;
  private readonly pending = new Uint8Array(64);
  private pendingLength = 0;
  private byteLength = 0;
  private readonly words = new Int32Array(16);

  update(data: Uint8Array): this {
    this.byteLength += data.length;
    let offset = 0;
    if (this.pendingLength > 0) {
      const take = Math.min(64 - this.pendingLength, data.length);
      this.pending.set(data.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      offset = take;
      if (this.pendingLength < 64) {
        return this;
      }
      this.compress(this.pending, 0);
      this.pendingLength = 0;
    }
    for (; offset + 64 <= data.length; offset += 64) {
      this.compress(data, offset);
    }
    this.pending.set(data.subarray(offset), 0);
    this.pendingLength = data.length - offset;
    return this;
  }

  /** The 16-byte digest; the hasher is spent afterwards. */
  digest(): Uint8Array {
    const bitLength = this.byteLength * 8;
    const padding = new Uint8Array((this.pendingLength < 56 ? 56 : 120) - this.pendingLength + 8);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    view.setUint32(padding.length - 8, bitLength >>> 0, true);
    view.setUint32(padding.length - 4, Math.floor(bitLength / 2 ** 32), true);
    const total = this.byteLength;
    this.update(padding);
    this.byteLength = total;
    const out = new Uint8Array(16);
    const outView = new DataView(out.buffer);
    outView.setInt32(0, this.a, true);
    outView.setInt32(4, this.b, true);
    outView.setInt32(8, this.c, true);
    outView.setInt32(12, this.d, true);
    return out;
  }

  private compress(bytes: Uint8Array, offset: number): void {
    const words = this.words;
    for (let j = 0; j < 16; j++) {
      const at = offset + j * 4;
      words[j] =
        (bytes[at] as number) |
        ((bytes[at + 1] as number) << 8) |
        ((bytes[at + 2] as number) << 16) |
        ((bytes[at + 3] as number) << 24);
    }
    let a = this.a;
    let b = this.b;
    let c = this.c;
    let d = this.d;
    for (let i = 0; i < 64; i++) {
      let f: number;
      if (i < 16) f = (b & c) | (~b & d);
      else if (i < 32) f = (d & b) | (~d & c);
      else if (i < 48) f = b ^ c ^ d;
      else f = c ^ (b | ~d);
      f = (f + a + (constants[i] as number) + (words[wordIndex[i] as number] as number)) | 0;
      a = d;
      d = c;
      c = b;
      const shift = shifts[i] as number;
      b = (b + ((f << shift) | (f >>> (32 - shift)))) | 0;
    }
    this.a = (this.a + a) | 0;
    this.b = (this.b + b) | 0;
    this.c = (this.c + c) | 0;
    this.d = (this.d + d) | 0;
  }
}

/** The base64 of `bytes`, as `Content-MD5` carries a digest. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}
