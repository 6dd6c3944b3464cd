import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { blobChecksum, nodeHashers, scriptHashers } from '../../src/checksums.js';
import { Md5 } from '../../src/md5.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('Md5', () => {
  it.each([
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['The quick brown fox jumps over the lazy dog', '9e107d9d372bb6826bd81d3542a419d6'],
    ['a'.repeat(55), 'ef1772b6dff9a122358552954ad0df65'],
    ['a'.repeat(56), '3b0c8ac703f828b04c6c197006d17218'],
    ['a'.repeat(64), '014842d480b571495a4a0363793f7367'],
  ])('hashes %j as RFC 1321 says', (text, expected) => {
    expect(hex(new Md5().update(new TextEncoder().encode(text)).digest())).toBe(expected);
  });

  it("gives node:crypto's digest whatever the piece sizes", () => {
    const data = new Uint8Array(randomBytes(300_001));
    for (const piece of [1, 7, 63, 64, 65, 1000, 300_001]) {
      const hasher = new Md5();
      for (let at = 0; at < data.length; at += piece) {
        hasher.update(data.subarray(at, at + piece));
      }
      expect(hex(hasher.digest())).toBe(createHash('md5').update(data).digest('hex'));
    }
  });

  it('reads a Blob in pieces into a Content-MD5 value', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const expected = createHash('md5').update(data).digest('base64');
    expect(await blobChecksum(new Blob([data]), scriptHashers.md5)).toBe(expected);
    expect(await blobChecksum(new Blob([]), scriptHashers.md5)).toBe('1B2M2Y8AsgTpgAmY7PhCfg==');
  });
});

describe('CRC32', () => {
  const base64Crc32 = (data: Uint8Array): string => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(crc32(data));
    return bytes.toString('base64');
  };

  it.each([
    ['in plain JavaScript', scriptHashers],
    ["with Node's native one", nodeHashers],
  ])('reads a Blob in pieces into an x-amz-checksum-crc32 value %s', async (_, hashers) => {
    const data = new Uint8Array(randomBytes(3 * 1024 * 1024 + 5));
    expect(await blobChecksum(new Blob([data]), hashers.crc32)).toBe(base64Crc32(data));
    // The check value of CRC-32 (ISO-HDLC): 0xCBF43926 for "123456789".
    expect(await blobChecksum(new Blob(['123456789']), hashers.crc32)).toBe('y/Q5Jg==');
    expect(await blobChecksum(new Blob([]), hashers.crc32)).toBe('AAAAAA==');
  });

  it('gives every piece size the same digest', async () => {
    const data = new Uint8Array(randomBytes(100_003));
    for (const piece of [1, 3, 4096, 100_003]) {
      const hasher = await scriptHashers.crc32();
      for (let at = 0; at < data.length; at += piece) hasher.update(data.subarray(at, at + piece));
      expect(hasher.digest()).toBe(base64Crc32(data));
    }
  });
});
