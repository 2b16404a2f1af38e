import { describe, expect, it } from 'vitest';
import { header, safeEqual } from './shared';

describe('safeEqual', () => {
  it('is false for values of different lengths instead of throwing', () => {
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
    expect(safeEqual(Buffer.from([1, 2]), Buffer.from([1, 2, 3]))).toBe(false);
  });

  it('compares bytes, not characters', () => {
    expect(safeEqual('é', 'e\u0301')).toBe(false);
    expect(safeEqual('token', 'token')).toBe(true);
    expect(safeEqual('token', 'tokeN')).toBe(false);
  });
});

describe('header', () => {
  it('finds a header whatever its case and returns the first of repeated values', () => {
    const req = { headers: { 'X-Thing': ['one', 'two'], other: undefined }, rawBody: Buffer.alloc(0) };
    expect(header(req, 'x-thing')).toBe('one');
    expect(header(req, 'other')).toBeUndefined();
    expect(header(req, 'absent')).toBeUndefined();
  });
});
