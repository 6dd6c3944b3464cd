import { describe, expect, it } from 'vitest';
import { planParts } from '../../src/plan.js';

describe('planParts', () => {
  it('gives every part the part size but the last', () => {
    expect(planParts(25, 10, 3)).toEqual([
      { partNumber: 1, offset: 0, size: 10 },
      { partNumber: 2, offset: 10, size: 10 },
      { partNumber: 3, offset: 20, size: 5 },
    ]);
  });

  it.each([
    [0, 10, 1, [{ partNumber: 1, offset: 0, size: 0 }]],
    [0, 0, 1, [{ partNumber: 1, offset: 0, size: 0 }]],
    [1, 10, 1, [{ partNumber: 1, offset: 0, size: 1 }]],
    [10, 10, 1, [{ partNumber: 1, offset: 0, size: 10 }]],
    [
      11,
      10,
      2,
      [
        { partNumber: 1, offset: 0, size: 10 },
        { partNumber: 2, offset: 10, size: 1 },
      ],
    ],
  ])('splits %i bytes in parts of %i into %i', (fileSize, partSize, partCount, parts) => {
    expect(planParts(fileSize, partSize, partCount)).toEqual(parts);
  });

  it.each([
    [25, 10, 2],
    [25, 10, 4],
    [10, 10, 0],
    [0, 10, 2],
    [5, 0, 1],
  ])('refuses a split that does not add up: %i bytes, part size %i, %i parts', (fileSize, partSize, partCount) => {
    expect(() => planParts(fileSize, partSize, partCount)).toThrow(/does not add up/);
  });
});
