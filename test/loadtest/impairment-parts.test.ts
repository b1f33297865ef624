import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import { payloadStamp, stampedPayloadB64 } from '../../src/loadtest/frame-stamp.js';
import { InboundDisorder, MAX_LATE_TICKS } from '../../src/loadtest/inbound-disorder.js';
import { LinkSchedule, TYPICAL_IMPAIRMENT } from '../../src/loadtest/link-schedule.js';

const noStalls = { ...TYPICAL_IMPAIRMENT, stallChance: 0 };

test('a link delays each read by its delay ± jitter and never delivers bytes before bytes read earlier', () => {
  const link = new LinkSchedule(noStalls, 7, 0);
  let last = -Infinity;
  let spread = 0;
  for (let t = 0; t < 10_000; t += 3) {
    const at = link.deliveryAt(t);
    assert.ok(at >= last, `in order at ${t}`);
    assert.ok(at >= t + 30 && at <= Math.max(t + 50, last), `within 40 ± 10 ms (or behind an earlier read): ${at - t}`);
    spread = Math.max(spread, at - t);
    last = at;
  }
  assert.ok(spread > 45, 'the jitter is used');
});

test('stalls hold everything due during them; the same seed stalls at the same times however the reads were chunked', () => {
  const often = { ...TYPICAL_IMPAIRMENT, jitterMs: 0, stallChance: 0.05 };
  const heldUntil = (step: number): number[] => {
    const link = new LinkSchedule(often, 3, 0);
    const ends: number[] = [];
    for (let t = 0; t < 20_000; t += step) {
      const at = link.deliveryAt(t);
      if (at - t > 40.001 && !ends.includes(at)) ends.push(at);
    }
    return ends;
  };
  const fine = heldUntil(1);
  assert.ok(fine.length >= 10, `stalls happened (${fine.length})`);
  const coarse = heldUntil(7);
  // Every stall end the coarse reader met is one the fine reader met too.
  for (const end of coarse) assert.ok(fine.includes(end), `stall ending at ${end} is the same stall`);
  const link = new LinkSchedule(often, 3, 0);
  for (let t = 0; t < 20_000; t += 1) {
    const at = link.deliveryAt(t);
    const held = at - (t + 40);
    if (held > 0.001) assert.ok(held <= 400, `a stall holds at most 400 ms (${held})`);
  }
});

test('an impairment outside its limits is a PTIME_ERR_INVALID_OPTION naming the limit', () => {
  const bad = [
    [{ ...TYPICAL_IMPAIRMENT, delayMs: -1 }, /delayMs must be a number from 0 to 60000/],
    [{ ...TYPICAL_IMPAIRMENT, jitterMs: 41 }, /jitterMs must be a number from 0 to 40/],
    [{ ...TYPICAL_IMPAIRMENT, stallChance: 2 }, /stallChance must be a number from 0 to 1/],
    [{ ...TYPICAL_IMPAIRMENT, stallMs: [400, 200] as const }, /stallMs must be \[min, max\]/],
  ] as const;
  for (const [impairment, message] of bad) {
    assert.throws(
      () => new LinkSchedule(impairment, 1, 0),
      (e: unknown) => e instanceof PtimeError && e.code === ErrorCodes.INVALID_OPTION && message.test(e.message),
    );
  }
});

test('disordered inbound media: every chunk goes out, at most two ticks late, some twice; the same seed replays it', () => {
  const run = (seed: number): number[][] => {
    const d = new InboundDisorder({ latePct: 10, duplicatePct: 5, seed });
    const ticks: number[][] = [];
    for (let chunk = 1; chunk <= 2000; chunk++) ticks.push([...d.next(chunk)]);
    ticks.push(d.drain());
    return ticks;
  };
  const ticks = run(5);
  const sent = ticks.flat();
  const firstAt = new Map<number, number>();
  ticks.forEach((chunks, tick) => chunks.forEach((c) => firstAt.has(c) || firstAt.set(c, tick + 1)));
  for (let chunk = 1; chunk <= 2000; chunk++) {
    const at = firstAt.get(chunk);
    assert.ok(at !== undefined, `chunk ${chunk} sent`);
    assert.ok(at - chunk <= MAX_LATE_TICKS, `chunk ${chunk} at most ${MAX_LATE_TICKS} ticks late`);
  }
  const late = [...firstAt].filter(([c, at]) => at > c).length;
  assert.ok(late > 100 && late < 300, `about 10 % late (${late})`);
  const twice = sent.length - 2000;
  assert.ok(twice > 50 && twice < 150, `about 5 % twice (${twice})`);
  assert.deepEqual(run(5), ticks, 'seeded');
  assert.throws(
    () => new InboundDisorder({ latePct: 101, duplicatePct: 0, seed: 1 }),
    (e: unknown) =>
      e instanceof PtimeError &&
      e.code === ErrorCodes.INVALID_OPTION &&
      /latePct must be a percentage from 0 to 100/.test(e.message),
  );
});

test('a numbered frame is 160 bytes of mu-law whose number comes back out of an outbound media message', () => {
  for (const chunk of [1, 255, 65_536, 2 ** 32 - 1]) {
    const b64 = stampedPayloadB64(chunk);
    assert.equal(Buffer.from(b64, 'base64').length, 160);
    const message = Buffer.from(JSON.stringify({ event: 'media', streamSid: 'MZ1', media: { payload: b64 } }));
    assert.equal(payloadStamp(message), chunk);
  }
  // Bytes 4 and 5 of a numbered frame are silence (0xff): a frame without them carries no number.
  const silence = Buffer.alloc(160, 0xff).toString('base64');
  const unnumbered = `${silence.slice(0, 4)}AAAA${silence.slice(8)}`;
  assert.equal(payloadStamp(Buffer.from(`{"event":"media","media":{"payload":"${unnumbered}"}}`)), -1);
  assert.equal(payloadStamp(Buffer.from('{"event":"mark"}')), -1);
});
