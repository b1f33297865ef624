import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcmReceiver } from '../../src/engine/pcm-receiver.js';
import { MULAW_8K } from '../../src/codec/audio-format.js';

const frame = (seed: number): Uint8Array => new Uint8Array(160).map((_, i) => (i * 37 + seed * 11) & 0xff);

test("inbound PCM16: outbound has its own resampler stream; any other track name shares inbound's", () => {
  const named = new PcmReceiver(16000, MULAW_8K);
  const reference = new PcmReceiver(16000, MULAW_8K);
  for (let k = 0; k < 6; k++) {
    // A peer inventing a track name per frame gets no new state for it: the output is what
    // one continuous inbound stream gives.
    assert.deepEqual(
      named.convert(frame(k), k === 0 ? 'inbound' : `made-up-${k}`),
      reference.convert(frame(k), 'inbound'),
      `frame ${k}`,
    );
  }
  const fresh = new PcmReceiver(16000, MULAW_8K);
  assert.deepEqual(
    named.convert(frame(9), 'outbound'),
    fresh.convert(frame(9), 'inbound'),
    'outbound starts from a clean filter state',
  );
});
