/** base64 helpers agree with Node's own encoder, across the chunk size and for UTF-8 text. */
import { describe, expect, it } from 'vitest';
import { base64ToBytes, base64ToText, bytesToBase64, textToBase64 } from './base64';

describe('base64', () => {
  it('round-trips bytes longer than one chunk exactly as Node encodes them', () => {
    const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31 + 7) % 256);
    const b64 = bytesToBase64(bytes);
    expect(b64).toBe(Buffer.from(bytes).toString('base64'));
    expect(base64ToBytes(b64)).toEqual(bytes);
  });
  it('round-trips UTF-8 text', () => {
    const text = '{"label":"x̂₀ (z)","σ":0.05}\n';
    expect(textToBase64(text)).toBe(Buffer.from(text, 'utf8').toString('base64'));
    expect(base64ToText(textToBase64(text))).toBe(text);
  });
});
