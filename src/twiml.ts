/** XML-escape text for an attribute or element value. */
function xml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * TwiML that connects a call to ptime as a bidirectional Media Stream:
 * `<Response><Connect><Stream url="…"><Parameter name="…" value="…"/>…</Stream></Connect></Response>`,
 * every value escaped. `parameters` arrive as `call.customParameters`.
 */
export function connectStream(opts: { url: string; parameters?: Record<string, string> }): string {
  if (!/^wss:\/\/|^ws:\/\//.test(opts.url))
    throw new TypeError(
      `connectStream url must be a ws:// or wss:// URL (got ${JSON.stringify(opts.url.slice(0, 80))})`,
    );
  const params = Object.entries(opts.parameters ?? {})
    .map(([name, value]) => `<Parameter name="${xml(name)}" value="${xml(value)}"/>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${xml(opts.url)}">${params}</Stream></Connect></Response>`;
}
