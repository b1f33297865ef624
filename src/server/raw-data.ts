import type { RawData } from 'ws';

/** ws hands a message as a Buffer, or as fragments / an ArrayBuffer when so configured. */
export function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** A text message's characters (ws does not decode them: it hands the UTF-8 bytes). */
export function rawText(data: RawData): string {
  return asBuffer(data).toString();
}
