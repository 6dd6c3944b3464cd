import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobMd5, scriptMd5Hasher } from '../../src/checksums.js';
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
    expect(await blobMd5(new Blob([data]), scriptMd5Hasher)).toBe(expected);
    expect(await blobMd5(new Blob([]), scriptMd5Hasher)).toBe('1B2M2Y8AsgTpgAmY7PhCfg==');
  });
});
