/**
 * The shape of a load-test report: what the generator writes as JSON and what the table and the
 * HTML report read. Times are milliseconds unless a name says otherwise.
 */
export interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

/** Late-frame counts under Twilio-like playout with a jitter buffer of `bufferMs`. */
export interface LateFigures {
  bufferMs: number;
  frames: number;
  late: number;
  /** 100 * late / frames */
  latePct: number;
}

export interface CallFigures {
  index: number;
  streamSid: string;
  framesReceived: number;
  /** frames received / seconds from first to last frame */
  framesPerSec: number;
  intervalMs: Percentiles;
  scheduleErrorMs: Percentiles;
  late: LateFigures[];
  /** arrival time of the last frame minus its ideal time (cumulative drift), ms */
  finalDriftMs: number;
}

export interface ServerFigures {
  /** process CPU, % of one core, mean over the run */
  cpuPct: number | null;
  pacerCpuPct: number | null;
  /** the main thread's own CPU, % of one core, mean over the run (older reports: absent) */
  mainCpuPct?: number | null;
  /** io: 'worker': the I/O thread's CPU, % of one core, mean, and its worst per-second loop delay p99 */
  ioCpuPct?: number | null;
  ioLoopDelayP99Ms?: number | null;
  rssMb: number | null;
  loopDelayP99Ms: number | null;
  pacerTickErrorUs: Percentiles | null;
  framesSent: number | null;
  drops: number | null;
  underruns: number | null;
}

export interface ScenarioReport {
  scenario: string;
  /** 'ptime' (with its lead) or a baseline name */
  pacer: string;
  lead: number | null;
  calls: number;
  seconds: number;
  generatorProcesses: number;
  aggregate: {
    framesReceived: number;
    framesPerSecPerCall: Percentiles;
    intervalMs: Percentiles;
    scheduleErrorMs: Percentiles;
    late: LateFigures[];
    maxFinalDriftMs: number;
    /** Echo mode: inbound frame sent → its echo received, ms (absent in other modes). */
    echoLatencyMs?: Percentiles;
    /** interval histogram for plotting: [bucket upper bound ms, count] */
    intervalHistogram: [number, number][];
  };
  server: ServerFigures;
  /** one call's frame arrivals and the stall windows, both in ms from the generator's start, for the timeline plot */
  timeline: { streamSid: string; arrivalsMs: number[]; stallsMs: [number, number][] } | null;
  calls_detail?: CallFigures[];
}

export interface LoadReport {
  machine: { cpu: string; cores: number; node: string; when: string };
  scenarios: ScenarioReport[];
}
