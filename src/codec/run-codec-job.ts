/**
 * Executes one codec job. The pool worker calls this, and so does the inline path, so both run
 * the same code and the bench compares like with like.
 */
import { ErrorCodes, PtimeError } from '../errors.js';
import { checkPcm16 } from './audio-input.js';
import { audioFormat, encodeWire } from './audio-format.js';
import type { CodecJob, CodecResult } from './codec-job.js';
import { mulawDecode, mulawEncode } from './g711.js';
import { Resampler, type ResamplerState } from './resampler.js';
import { checkRate, TELEPHONY_RATE } from './sample-rates.js';
import { mulaw8kToPcm16, pcm16ToMulaw8k } from './telephony.js';

export function runCodecJob(job: CodecJob): CodecResult {
  if (job === null || typeof job !== 'object') {
    throw new PtimeError(
      ErrorCodes.CODEC_JOB,
      `codec job must be an object, got ${job === null ? 'null' : typeof job}`,
    );
  }
  switch (job.op) {
    case 'pcm16ToMulaw8k': {
      const rate = checkRate(job.rate, 'input sample rate');
      if (job.state == null) return { op: job.op, mulaw: pcm16ToMulaw8k(job.samples, rate), state: null };
      const r = restored(job.state, rate, TELEPHONY_RATE);
      const pcm = streamStep(r, checkPcm16(job.samples), job.flush === true);
      return { op: job.op, mulaw: mulawEncode(pcm), state: r.snapshot() };
    }
    case 'mulaw8kToPcm16': {
      const rate = checkRate(job.rate, 'output sample rate');
      if (job.state == null) return { op: job.op, samples: mulaw8kToPcm16(job.mulaw, rate), state: null };
      const r = restored(job.state, TELEPHONY_RATE, rate);
      const pcm = streamStep(r, mulawDecode(job.mulaw), job.flush === true);
      return { op: job.op, samples: pcm, state: r.snapshot() };
    }
    case 'pcm16ToWire': {
      const rate = checkRate(job.rate, 'input sample rate');
      const format = audioFormat(job.encoding, job.toRate);
      const r =
        job.state == null ? new Resampler(rate, format.sampleRate) : restored(job.state, rate, format.sampleRate);
      const pcm = streamStep(r, checkPcm16(job.samples), job.flush === true || job.state == null);
      return { op: job.op, wire: encodeWire(pcm, format), state: job.state == null ? null : r.snapshot() };
    }
    default: {
      // Jobs arrive by structured clone, so the type system cannot vouch for `op`.
      const op: unknown = (job as { op?: unknown }).op;
      throw new PtimeError(
        ErrorCodes.CODEC_JOB,
        `unknown codec job op ${JSON.stringify(op) ?? String(op)}; expected pcm16ToMulaw8k, pcm16ToWire or mulaw8kToPcm16`,
      );
    }
  }
}

function restored(state: ResamplerState, from: number, to: number): Resampler {
  if (state.fromRate !== from || state.toRate !== to) {
    throw new PtimeError(
      ErrorCodes.SAMPLE_RATE,
      `job state resamples ${String(state.fromRate)}→${String(state.toRate)} Hz but the job is ${from}→${to} Hz`,
    );
  }
  const r = new Resampler(from, to);
  r.restore(state);
  return r;
}

function streamStep(r: Resampler, input: Int16Array, flush: boolean): Int16Array {
  const body = r.process(input);
  if (!flush) return body;
  const tail = r.flush();
  if (body.length === 0) return tail;
  const out = new Int16Array(body.length + tail.length);
  out.set(body);
  out.set(tail, body.length);
  return out;
}
