import { describe, expect, it } from 'vitest';
import { readStoreError } from '../../src/store-error.js';

describe('readStoreError', () => {
  it('reads the code and message of an S3 error document', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check &quot;key&quot; &amp; signing method.</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`;
    expect(readStoreError(xml)).toEqual({
      code: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check "key" & signing method.',
    });
  });

  it('decodes numeric entities', () => {
    expect(readStoreError('<Error><Message>a&#39;b&#x3C;</Message></Error>').message).toBe("a'b<");
  });

  it('gives nothing for a body that is not one', () => {
    expect(readStoreError('')).toEqual({ code: undefined, message: undefined });
    expect(readStoreError('<html>Bad Gateway</html>')).toEqual({ code: undefined, message: undefined });
  });
});
