import { describe, expect, it } from 'vitest';
import { PartUrlBook } from '../../src/part-urls.js';
import { planParts } from '../../src/plan.js';
import type { SignedPart } from '../../src/protocol.js';

function signedPart(partNumber: number, size = 10): SignedPart {
  return { partNumber, size, uploadUrl: `https://store.test/p${partNumber}`, headers: {} };
}

function bookFor(partCount: number, firstBatch: number, lookahead = 4, maxPerCall = 100) {
  const calls: number[][] = [];
  const book = new PartUrlBook({
    sign: async (partNumbers) => {
      calls.push(partNumbers);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return partNumbers.map((n) => signedPart(n));
    },
    parts: planParts(partCount * 10, 10, partCount),
    signed: Array.from({ length: firstBatch }, (_, index) => signedPart(index + 1)),
    lookahead,
    maxPerCall,
  });
  return { book, calls };
}

describe('PartUrlBook', () => {
  it('serves the URLs at hand without a call', async () => {
    const { book, calls } = bookFor(3, 3);
    expect((await book.get(2)).uploadUrl).toBe('https://store.test/p2');
    expect(calls).toEqual([]);
  });

  it('asks ahead for the next batch before a part needs it', async () => {
    const { book, calls } = bookFor(300, 8, 4);
    await book.get(4);
    await book.get(5);
    expect(calls).toEqual([Array.from({ length: 100 }, (_, index) => index + 9)]);
  });

  it('shares one call between parts waiting for the same batch', async () => {
    const { book, calls } = bookFor(300, 0, 0);
    const urls = await Promise.all([book.get(1), book.get(2), book.get(3)]);
    expect(urls.map((url) => url.partNumber)).toEqual([1, 2, 3]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(100);
  });

  it('asks for no more parts per call than the server allows', async () => {
    const { book, calls } = bookFor(30, 0, 0, 7);
    await book.get(1);
    expect(calls).toEqual([[1, 2, 3, 4, 5, 6, 7]]);
  });

  it('signs one part again on demand', async () => {
    const { book, calls } = bookFor(3, 3);
    await book.resign(2);
    expect(calls).toEqual([[2]]);
  });

  it('asks again after a failed batch', async () => {
    let failures = 1;
    const calls: number[][] = [];
    const book = new PartUrlBook({
      sign: async (partNumbers) => {
        calls.push(partNumbers);
        if (failures-- > 0) throw new Error('upload-parts/ failed');
        return partNumbers.map((n) => signedPart(n));
      },
      parts: planParts(30, 10, 3),
      signed: [],
      lookahead: 0,
      maxPerCall: 100,
    });
    await expect(book.get(1)).rejects.toThrow('upload-parts/ failed');
    expect((await book.get(1)).partNumber).toBe(1);
    expect(calls).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
  });

  it('refuses a URL signed for a size other than the part', async () => {
    const book = new PartUrlBook({
      sign: async () => [signedPart(2, 7)],
      parts: planParts(30, 10, 3),
      signed: [],
      lookahead: 0,
      maxPerCall: 100,
    });
    await expect(book.get(2)).rejects.toThrow('the server signed part 2 for 7 bytes');
  });

  it('reports a part the server did not sign', async () => {
    const book = new PartUrlBook({
      sign: async () => [],
      parts: planParts(30, 10, 3),
      signed: [],
      lookahead: 0,
      maxPerCall: 100,
    });
    await expect(book.get(2)).rejects.toThrow('upload-parts/ did not sign part 2');
  });
});
