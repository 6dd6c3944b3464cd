import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFile } from '../../src/index.js';
import { clientFor } from '../support/client.js';
import { FakeStack, knownFieldId } from '../support/fake-stack.js';

const MiB = 1024 * 1024;
let directory: string;
let path: string;
const data = new Uint8Array(randomBytes(3 * MiB + 12_345));

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 's3ff-open-file-'));
  path = join(directory, 'report.bin');
  await writeFile(path, data);
});

afterAll(async () => {
  await rm(directory, { recursive: true });
});

/** Byte for byte, without a deep comparison of millions of elements. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

async function pieces(blob: Blob): Promise<Uint8Array[]> {
  const reader = blob.stream().getReader();
  const read: Uint8Array[] = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) read.push(next.value);
  return read;
}

describe('openFile', () => {
  it('is a File with the name, size, type and modification time of the file', async () => {
    const file = await openFile(path, { type: 'application/pdf' });
    expect(file).toBeInstanceOf(Blob);
    expect([file.name, file.size, file.type]).toEqual(['report.bin', data.length, 'application/pdf']);
    expect(file.lastModified).toBeGreaterThan(0);
  });

  it('reads 1 MiB at a time, and slices without reading', async () => {
    const file = await openFile(path);
    const read = await pieces(file);
    expect(read.map((piece) => piece.byteLength)).toEqual([MiB, MiB, MiB, 12_345]);
    const slice = file.slice(MiB - 10, 2 * MiB + 10).slice(5, -5);
    expect(slice.size).toBe(MiB + 10);
    expect(sameBytes(new Uint8Array(await slice.arrayBuffer()), data.subarray(MiB - 5, 2 * MiB + 5))).toBe(true);
    expect(file.slice(-3).size).toBe(3);
    expect(file.slice(10, 5).size).toBe(0);
  });

  it('uploads as a File does, the bytes unchanged', async () => {
    const stack = new FakeStack({ partSize: MiB });
    await clientFor(stack, { checksums: true }).uploadFile(await openFile(path), knownFieldId);
    const upload = stack.onlyUpload();
    expect(upload.objectKey.endsWith('/report.bin')).toBe(true);
    expect(sameBytes(stack.storedBytes(upload.signature), data)).toBe(true);
  });

  it('refuses a directory', async () => {
    await expect(openFile(directory)).rejects.toThrow('is not a file');
  });
});
