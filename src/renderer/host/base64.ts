/** Bytes and UTF-8 text ↔ base64, the form files and pictures take on the wire and in dialogs. */

/** Base64 of `bytes` (in chunks: spreading a large array into one call overflows the stack). */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The bytes of a base64 string. */
export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** UTF-8 text ↔ base64 (graph files, reports). */
export const textToBase64 = (text: string): string => bytesToBase64(new TextEncoder().encode(text));
export const base64ToText = (b64: string): string => new TextDecoder().decode(base64ToBytes(b64));
