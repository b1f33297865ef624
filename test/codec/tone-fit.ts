/** Measurement helpers for the codec quality tests (least-squares tone fits, no FFT needed). */

export function tone(freq: number, rate: number, n: number, amp: number, phase = 0): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate + phase));
  return x;
}

export interface ToneFit {
  /** y ≈ s·sin(ωi) + c·cos(ωi) + dc over the window. */
  s: number;
  c: number;
  dc: number;
  amplitude: number;
  /** Phase of the fitted sinusoid relative to sin(ωi), radians. */
  phase: number;
  /** Mean power of the fitted sinusoid and of what is left after removing it (and DC). */
  tonePower: number;
  residualPower: number;
}

/**
 * Best-fit sinusoid at a known frequency over y[start, end): solves the 3×3 normal equations for
 * sin, cos and DC, so a window holding a non-integer number of periods is still exact.
 */
export function fitTone(y: ArrayLike<number>, freq: number, rate: number, start: number, end: number): ToneFit {
  const w = (2 * Math.PI * freq) / rate;
  // Normal equations A·[s c d]ᵀ = b, A symmetric.
  let ss = 0,
    sc = 0,
    s1 = 0,
    cc = 0,
    c1 = 0,
    n = 0,
    bs = 0,
    bc = 0,
    b1 = 0;
  for (let i = start; i < end; i++) {
    const si = Math.sin(w * i),
      ci = Math.cos(w * i),
      v = y[i]!;
    ss += si * si;
    sc += si * ci;
    s1 += si;
    cc += ci * ci;
    c1 += ci;
    n++;
    bs += v * si;
    bc += v * ci;
    b1 += v;
  }
  const [s, c, dc] = solve3([ss, sc, s1, sc, cc, c1, s1, c1, n], [bs, bc, b1]);
  let residual = 0;
  let tonePower = 0;
  for (let i = start; i < end; i++) {
    const t = s * Math.sin(w * i) + c * Math.cos(w * i);
    const r = y[i]! - t - dc;
    residual += r * r;
    tonePower += t * t;
  }
  return {
    s,
    c,
    dc,
    amplitude: Math.hypot(s, c),
    phase: Math.atan2(c, s),
    tonePower: tonePower / n,
    residualPower: residual / n,
  };
}

export function rms(y: ArrayLike<number>, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += y[i]! * y[i]!;
  return Math.sqrt(sum / (end - start));
}

export const dB = (ratio: number): number => 20 * Math.log10(ratio);

function solve3(a: number[], b: number[]): [number, number, number] {
  const det = (m: number[]): number =>
    m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) -
    m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) +
    m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
  const d = det(a);
  const col = (j: number): number[] => a.map((v, idx) => (idx % 3 === j ? b[Math.floor(idx / 3)]! : v));
  return [det(col(0)) / d, det(col(1)) / d, det(col(2)) / d];
}
