/** The messages Twilio sends to open a bidirectional stream, for the load generator and tests. */
export const MULAW_8K = { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } as const;

export function connectedMessage(): string {
  return JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });
}

export function startMessage(
  streamSid: string,
  callSid: string,
  customParameters: Record<string, string>,
  mediaFormat: { encoding: string; sampleRate: number; channels: number } = MULAW_8K,
): string {
  return JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    streamSid,
    start: {
      streamSid,
      accountSid: 'AC00000000000000000000000000000000',
      callSid,
      tracks: ['inbound'],
      customParameters,
      mediaFormat,
    },
  });
}
