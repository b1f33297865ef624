import fc from 'fast-check';
import { ErrorCodes, type ErrorCode } from '../../src/index.js';
import { MULAW_8K } from '../../src/loadtest/twilio-side.js';

/**
 * fast-check generators of hostile Twilio Media Streams traffic, and the one-message oracle the
 * fuzz test checks the server's rejection counts against.
 */

/** One WebSocket message as it goes on the wire. */
export interface Step {
  readonly bytes: Buffer;
  readonly binary: boolean;
  /** `bytes` is a whole WebSocket frame, written to the TCP socket as is. */
  readonly rawFrame?: boolean;
  /** How it was made, for failure reports. */
  readonly label: string;
}

export interface FuzzContext {
  /** The streamSid fuzz starts mostly use. */
  ownSid: string;
  /** A plausible streamSid of no stream on this socket. */
  otherSid: string;
  /** The control call's streamSid: a fuzz socket must not be able to touch that call. */
  controlSid: string;
  maxPayload: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const KNOWN_EVENTS: ReadonlySet<unknown> = new Set(['connected', 'start', 'media', 'dtmf', 'mark', 'stop']);
/** Decodes as the server's Buffer.toString() does for valid UTF-8: a leading BOM is kept. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function preview(step: { bytes: Buffer; binary: boolean }): string {
  const head = step.binary
    ? step.bytes.subarray(0, 24).toString('hex')
    : JSON.stringify(step.bytes.subarray(0, 120).toString());
  return `${step.binary ? 'binary' : 'text'} ${step.bytes.length} B ${head}${step.bytes.length > (step.binary ? 24 : 120) ? '…' : ''}`;
}

export function makeStep(data: string | Uint8Array, binary: boolean, label: string): Step {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  return { bytes, binary, label, [fc.toStringMethod]: () => `${label}: ${preview({ bytes, binary })}` } as Step;
}

/**
 * What the server must do with one message whatever state the stream is in, judged from the bytes
 * alone with JSON.parse and a strict UTF-8 decoder as oracles (not a copy of the adapter):
 *  - `close`: ws refuses the frame (over maxPayload: 1009; text that is not UTF-8: 1007; a frame
 *    against RFC 6455: 1002) and closes the socket; nothing after it on that socket is read.
 *    `code` is the rejection when the README names it.
 *  - `reject`: exactly one rejection with this code.
 *  - `depends`: a well-formed known event; zero or one rejection, by the stream's state.
 */
export type Verdict =
  | { kind: 'close'; closeCode: 1002 | 1007 | 1009; code: ErrorCode | null }
  | { kind: 'reject'; code: ErrorCode }
  | { kind: 'depends' };

export function classify(step: Step, maxPayload: number): Verdict {
  if (step.rawFrame) return { kind: 'close', closeCode: 1002, code: null };
  if (step.bytes.length > maxPayload) return { kind: 'close', closeCode: 1009, code: ErrorCodes.MESSAGE_TOO_BIG };
  if (step.binary) return { kind: 'reject', code: ErrorCodes.BINARY_FRAME };
  let text: string;
  try {
    text = UTF8.decode(step.bytes);
  } catch {
    return { kind: 'close', closeCode: 1007, code: null };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'reject', code: ErrorCodes.BAD_JSON };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { kind: 'reject', code: ErrorCodes.BAD_MESSAGE };
  if (!KNOWN_EVENTS.has((parsed as Record<string, unknown>)['event']))
    return { kind: 'reject', code: ErrorCodes.UNKNOWN_EVENT };
  return { kind: 'depends' };
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
/** A valid frame whose base64 has every character class, '+' and '/' included. */
const GOOD_PAYLOAD = b64(Uint8Array.from({ length: 160 }, (_, i) => (i * 37 + 251) & 0xff));

// --- valid messages -------------------------------------------------------------------------

export function startObject(
  sid: string,
  customParameters: Record<string, string> = {},
  mediaFormat: Json = { ...MULAW_8K },
): JsonObject {
  return {
    event: 'start',
    sequenceNumber: '1',
    streamSid: sid,
    start: {
      streamSid: sid,
      accountSid: 'AC' + '0'.repeat(32),
      callSid: 'CA' + sid.slice(2),
      tracks: ['inbound'],
      customParameters,
      mediaFormat,
    },
  };
}

export function mediaObject(sid: string, chunk: number, frame: Uint8Array): JsonObject {
  return {
    event: 'media',
    sequenceNumber: String(chunk + 1),
    streamSid: sid,
    media: { track: 'inbound', chunk: String(chunk), timestamp: String(chunk * 20), payload: b64(frame) },
  };
}

export function dtmfObject(sid: string, digit: string): JsonObject {
  return { event: 'dtmf', sequenceNumber: '7', streamSid: sid, dtmf: { track: 'inbound_track', digit } };
}

export function markObject(sid: string, name: string): JsonObject {
  return { event: 'mark', sequenceNumber: '8', streamSid: sid, mark: { name } };
}

export function stopObject(sid: string): JsonObject {
  return { event: 'stop', sequenceNumber: '9', streamSid: sid, stop: { accountSid: 'AC0', callSid: 'CA0' } };
}

const CONNECTED: JsonObject = { event: 'connected', protocol: 'Call', version: '1.0.0' };

function templates(ctx: FuzzContext): fc.Arbitrary<{ kind: string; obj: JsonObject }> {
  const sid = fc.oneof(
    { weight: 8, arbitrary: fc.constant(ctx.ownSid) },
    fc.constant(ctx.otherSid),
    fc.constant(ctx.controlSid),
  );
  const seq = fc.nat({ max: 99_999 }).map(String);
  const mode = fc.option(fc.constantFrom('echo', 'tone', 'silence', 'file', 'karaoke'), { nil: undefined });
  const format = fc.oneof(
    { weight: 6, arbitrary: fc.constant<Json>({ ...MULAW_8K }) },
    fc.record<Record<string, Json>>({
      encoding: fc.constantFrom('audio/x-mulaw', 'audio/x-l16', 'audio/x-alaw', ''),
      sampleRate: fc.constantFrom<Json>(8000, '8000', 16000, 0, '8e3'),
      channels: fc.constantFrom<Json>(1, '1', 2, 0),
    }),
  );
  // Around 4 KiB of customParameters (a TwiML <Parameter> list has no cap of its own).
  const bigParams = fc.constantFrom(3000, 4000, 4100, 6000).map((n) => ({ big: 'p'.repeat(n) }));
  return fc.oneof(
    fc.constant({ kind: 'connected', obj: CONNECTED }),
    fc
      .record({
        sid,
        mode,
        params: fc.oneof(
          {
            weight: 4,
            arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 3 }),
          },
          bigParams,
        ),
        format,
      })
      .map(({ sid, mode, params, format }) => ({
        kind: 'start',
        obj: startObject(sid, mode === undefined ? params : { ...params, mode }, format),
      })),
    {
      weight: 4,
      arbitrary: fc
        .record({ sid, chunk: fc.nat({ max: 1_000_000 }), frame: fc.uint8Array({ minLength: 160, maxLength: 160 }) })
        .map(({ sid, chunk, frame }) => ({ kind: 'media', obj: mediaObject(sid, chunk, frame) })),
    },
    fc
      .record({ sid, digit: fc.constantFrom(...'0123456789*#ABCD') })
      .map(({ sid, digit }) => ({ kind: 'dtmf', obj: dtmfObject(sid, digit) })),
    fc
      .record({
        sid,
        seq,
        name: fc.oneof(
          { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 24 }) },
          fc.constantFrom(256, 257, 4096, 4097).map((n) => 'm'.repeat(n)),
          fc.constant('é'.repeat(129)),
        ),
      })
      .map(({ sid, seq, name }) => ({ kind: 'mark', obj: { ...markObject(sid, name), sequenceNumber: seq } })),
    fc.record({ sid, seq }).map(({ sid, seq }) => ({ kind: 'stop', obj: { ...stopObject(sid), sequenceNumber: seq } })),
    fc
      .record({
        sid,
        event: fc.oneof(
          fc.constantFrom('clear', 'Media', 'START', 'stop ', '', 'connected\u0000', '__proto__', 'constructor'),
          fc.string({ maxLength: 12 }),
        ),
      })
      .map(({ sid, event }) => ({ kind: 'other-event', obj: { event, streamSid: sid, sequenceNumber: '3' } })),
  );
}

// --- mutations ----------------------------------------------------------------------------

/** Values that should never be trusted where a string id, a number-as-string or an object is expected. */
function weirdValue(ctx: FuzzContext): fc.Arbitrary<Json> {
  return fc.oneof(
    fc.constantFrom<Json>(
      null,
      true,
      false,
      0,
      -1,
      -0,
      1e308,
      1.5,
      '',
      '-1',
      'NaN',
      'Infinity',
      '-Infinity',
      '1e309',
      '0x10',
      ' 7 ',
      '9'.repeat(20),
      [],
      {},
      '\u0000',
      '\ud800',
      '\u{1F600}',
    ),
    fc.constantFrom<Json>(ctx.otherSid, ctx.controlSid),
    fc.integer().map((n) => n as Json),
    fc.string({ unit: 'binary', maxLength: 40 }),
    // Around the caps: ids (128 chars), mark names (256 bytes, 4096 chars), maxPayload.
    fc.constantFrom(127, 128, 129, 256, 257, 4096, 4097, 6000, ctx.maxPayload).map((n) => 'x'.repeat(n)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => v as Json),
  );
}

/** media.payload that is not one 160-byte frame of base64, or only just is. */
function payloadVariant(): fc.Arbitrary<Json> {
  const valid = GOOD_PAYLOAD;
  return fc.oneof(
    fc.constantFrom(0, 1, 159, 161, 162, 163, 320).map((n) => b64(new Uint8Array(n).fill(0x7f))),
    fc.uint8Array({ maxLength: 400 }).map(b64),
    fc.constantFrom<Json>(
      '!'.repeat(216),
      valid.slice(0, -1),
      valid + '=',
      valid + '====',
      valid.slice(0, 100) + '==' + valid.slice(102),
      valid.slice(0, 100) + '\n' + valid.slice(100),
      ' ' + valid.slice(1),
      valid.replace(/\//g, '_').replace(/\+/g, '-') + '_-',
      'A'.repeat(214) + '==',
      'A'.repeat(215) + '=',
      'A'.repeat(213) + '===',
      160,
      null,
      [valid],
      { payload: valid },
    ),
    fc.string({ maxLength: 300 }),
  );
}

type Mutation =
  | { at: number; op: 'delete' }
  | { at: number; op: 'set'; value: Json }
  | { op: 'payload'; value: Json }
  | { op: 'streamSid'; value: Json };

function mutation(ctx: FuzzContext): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({ at: fc.nat(), op: fc.constant('delete' as const) }),
    { weight: 3, arbitrary: fc.record({ at: fc.nat(), op: fc.constant('set' as const), value: weirdValue(ctx) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('payload' as const), value: payloadVariant() }) },
    fc.record({ op: fc.constant('streamSid' as const), value: weirdValue(ctx) }),
  );
}

/** Every [parent, key] in `obj`, depth first, root excluded. */
function slots(
  obj: Json,
  out: [JsonObject | Json[], string | number][] = [],
): [JsonObject | Json[], string | number][] {
  if (Array.isArray(obj)) obj.forEach((v, i) => (out.push([obj, i]), slots(v, out)));
  else if (obj !== null && typeof obj === 'object')
    for (const k of Object.keys(obj)) {
      out.push([obj, k]);
      slots(obj[k]!, out);
    }
  return out;
}

function mutate(obj: JsonObject, muts: Mutation[]): JsonObject {
  const out = structuredClone(obj);
  for (const m of muts) {
    if (m.op === 'payload' || m.op === 'streamSid') {
      const media = out['media'];
      if (m.op === 'payload' && media !== null && typeof media === 'object' && !Array.isArray(media))
        media['payload'] = m.value;
      else out['streamSid'] = m.value;
      continue;
    }
    const all = slots(out);
    if (all.length === 0) continue;
    const [parent, key] = all[m.at % all.length]!;
    if (m.op === 'set') (parent as Record<string | number, Json>)[key] = m.value;
    else if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  }
  return out;
}

// --- whole messages -----------------------------------------------------------------------

type TextCut =
  | { op: 'none' }
  | { op: 'truncate'; at: number }
  | { op: 'pad'; to: number }
  | { op: 'junk'; junk: string; front: boolean };

function textCut(maxPayload: number): fc.Arbitrary<TextCut> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant({ op: 'none' as const }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
    // Just under and at the cap: still accepted. (One byte over is the ender's job.)
    fc.record({ op: fc.constant('pad' as const), to: fc.constantFrom(maxPayload - 1, maxPayload) }),
    fc.record({
      op: fc.constant('junk' as const),
      junk: fc.string({ minLength: 1, maxLength: 4 }),
      front: fc.boolean(),
    }),
  );
}

function applyCut(json: string, cut: TextCut): string {
  switch (cut.op) {
    case 'none':
      return json;
    case 'truncate':
      return json.slice(0, cut.at % json.length);
    case 'pad':
      return json + ' '.repeat(Math.max(0, cut.to - Buffer.byteLength(json)));
    case 'junk':
      return cut.front ? cut.junk + json : json + cut.junk;
  }
}

/** A Twilio message, mutated 0-3 times, then maybe cut, padded or wrapped in junk. */
export function twilioMessage(ctx: FuzzContext): fc.Arbitrary<Step> {
  return fc
    .record({ t: templates(ctx), muts: fc.array(mutation(ctx), { maxLength: 3 }), cut: textCut(ctx.maxPayload) })
    .map(({ t, muts, cut }) => {
      const label = `${t.kind}${muts.length ? ` ×${muts.length} mutations` : ''}${cut.op === 'none' ? '' : ` ${cut.op}`}`;
      return makeStep(applyCut(JSON.stringify(mutate(t.obj, muts)), cut), false, label);
    });
}

/** Nested arrays `depth` deep as the `event` value, or under another key. */
export function deepJson(depth: number, asEvent: boolean): string {
  const nest = '['.repeat(depth) + ']'.repeat(depth);
  return asEvent ? `{"event":${nest}}` : `{"event":"media","deep":${nest}}`;
}

/** Anything else a broken or hostile peer might send. */
export function rawMessage(ctx: FuzzContext, maxNesting: number): fc.Arbitrary<Step> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => makeStep(b, true, 'random binary')),
    twilioMessage(ctx).map((s) => makeStep(s.bytes, true, `binary frame carrying ${s.label}`)),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => makeStep(s, false, 'random text')),
    fc.json({ maxDepth: 4 }).map((s) => makeStep(s, false, 'random JSON')),
    fc
      .dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
      .map((o) => makeStep(JSON.stringify(o), false, 'random JSON object')),
    fc
      .record({ depth: fc.integer({ min: 1, max: maxNesting }), asEvent: fc.boolean() })
      .map(({ depth, asEvent }) => makeStep(deepJson(depth, asEvent), false, `nested ${depth} deep`)),
    fc
      .constantFrom(
        '',
        ' ',
        '{',
        '}',
        '[',
        'null',
        '"media"',
        '{"event":',
        '{"event":"media"',
        'undefined',
        '\u0000',
        '\ufeff{"event":"x"}',
      )
      .map((s) => makeStep(s, false, 'fragment')),
  );
}

/** Random bytes sent as a text frame: mostly not UTF-8, so ws closes the socket with 1007. */
export function bytesAsText(): fc.Arbitrary<Step> {
  return fc
    .oneof(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.constantFrom(
        Uint8Array.of(0xed, 0xa0, 0x80),
        Uint8Array.of(0xc0, 0xaf),
        Uint8Array.of(0x7b, 0xff, 0x7d),
        Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
      ),
    )
    .map((b) => makeStep(b, false, 'bytes as text'));
}

/** A message over maxPayload: a valid media message padded, or filler. */
export function oversize(ctx: FuzzContext): fc.Arbitrary<Step> {
  return fc.oneof(
    fc
      .integer({ min: 1, max: 2048 })
      .map((extra) =>
        makeStep(
          JSON.stringify(mediaObject(ctx.ownSid, 1, new Uint8Array(160))).padEnd(ctx.maxPayload + extra, ' '),
          false,
          `media padded to maxPayload+${extra}`,
        ),
      ),
    fc
      .constantFrom(1, 4096)
      .map((extra) => makeStep(Buffer.alloc(ctx.maxPayload + extra, 0x41), true, `binary of maxPayload+${extra}`)),
  );
}

/**
 * Well-formed messages out of turn, with the rejection the README's state rules give them: media,
 * dtmf, mark or stop before `start` (NOT_STARTED); after it, the same for another stream
 * (STREAM_SID) or a second `start` (DUPLICATE_START).
 */
export interface OutOfTurn {
  phase: 'before' | 'after';
  step: Step;
  expect: ErrorCode;
}

export function outOfTurn(ctx: FuzzContext): fc.Arbitrary<OutOfTurn> {
  const event = (sid: string): fc.Arbitrary<[string, JsonObject]> =>
    fc.oneof(
      fc
        .uint8Array({ minLength: 160, maxLength: 160 })
        .map((f): [string, JsonObject] => ['media', mediaObject(sid, 1, f)]),
      fc.constantFrom(...'0123456789*#ABCD').map((d): [string, JsonObject] => ['dtmf', dtmfObject(sid, d)]),
      fc.string({ minLength: 1, maxLength: 16 }).map((n): [string, JsonObject] => ['mark', markObject(sid, n)]),
      fc.constant<[string, JsonObject]>(['stop', stopObject(sid)]),
    );
  const other = fc.constantFrom(ctx.otherSid, ctx.controlSid);
  const step = ([kind, obj]: [string, JsonObject], why: string): Step =>
    makeStep(JSON.stringify(obj), false, `${kind} ${why}`);
  return fc.oneof(
    event(ctx.ownSid).map((e) => ({
      phase: 'before' as const,
      step: step(e, 'before start'),
      expect: ErrorCodes.NOT_STARTED,
    })),
    other
      .chain(event)
      .map((e) => ({ phase: 'after' as const, step: step(e, 'for another stream'), expect: ErrorCodes.STREAM_SID })),
    fc.constantFrom(ctx.ownSid, ctx.otherSid).map((sid) => ({
      phase: 'after' as const,
      step: step(['start', startObject(sid)], 'again'),
      expect: ErrorCodes.DUPLICATE_START,
    })),
  );
}

/** A client frame header: FIN/RSV/opcode byte, then MASK + length, then a zero masking key. */
function frame(first: number, payload: number[], masked = true): Uint8Array {
  const len = payload.length < 126 ? [payload.length] : [126, payload.length >> 8, payload.length & 0xff];
  return Uint8Array.from([
    first,
    (masked ? 0x80 : 0) | len[0]!,
    ...len.slice(1),
    ...(masked ? [0, 0, 0, 0] : []),
    ...payload,
  ]);
}

/** Frames RFC 6455 says a server must fail with 1002 (sent raw, under the ws client). */
export function protocolViolation(): fc.Arbitrary<Step> {
  const violations: [string, Uint8Array][] = [
    ['reserved opcode 0x3', frame(0x83, [])],
    ['RSV1 set with no extension', frame(0xc1, [0x7b, 0x7d])],
    ['unmasked client frame', frame(0x81, [0x7b, 0x7d], false)],
    ['continuation with nothing to continue', frame(0x80, [0x7b])],
    [
      'ping of 126 bytes',
      frame(
        0x89,
        Array.from({ length: 126 }, () => 0x70),
      ),
    ],
    ['fragmented ping', frame(0x09, [])],
    ['close with status 999', frame(0x88, [0x03, 0xe7])],
    ['close with a 1-byte body', frame(0x88, [0x03])],
  ];
  return fc.constantFrom(...violations).map(([label, bytes]) => ({ ...makeStep(bytes, true, label), rawFrame: true }));
}
