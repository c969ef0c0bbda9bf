/** base64 helpers: known encodings, exact round trips across the chunk size, UTF-8 text. */
import { describe, expect, it } from 'vitest';
import { base64ToBytes, base64ToText, bytesToBase64, textToBase64 } from './base64';

describe('base64', () => {
  it('encodes known bytes and round-trips arrays longer than one chunk', () => {
    expect(bytesToBase64(Uint8Array.from([0, 1, 2, 250, 251, 252, 253, 254, 255]))).toBe('AAEC+vv8/f7/');
    const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31 + 7) % 256);
    const b64 = bytesToBase64(bytes);
    expect(b64).toHaveLength(4 * Math.ceil(bytes.length / 3));
    expect(base64ToBytes(b64)).toEqual(bytes);
  });
  it('round-trips UTF-8 text', () => {
    const text = '{"label":"x̂₀ (z)","σ":0.05}\n';
    expect(textToBase64(text)).toBe('eyJsYWJlbCI6InjMguKCgCAoeikiLCLPgyI6MC4wNX0K');
    expect(base64ToText(textToBase64(text))).toBe(text);
  });
});
