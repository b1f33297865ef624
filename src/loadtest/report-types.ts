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

export type MarkOutcome = 'played' | 'cleared' | 'dropped' | 'closed';

/** What the server's ended calls add up to (their 'call ended' lines), and the refusals it logged. */
export interface EndedCalls {
  /** Frames dropped, by why: the queue bound (drop-oldest), a socket not draining, a clear, maxQueuedMs. */
  drops: { overflow: number; slow: number; stale: number; latencyBound: number };
  /** Calls by the close code they ended with. */
  byCode: Record<string, number>;
  /** Every mark (the engine's own and the app's) by how it settled. */
  marks: Record<MarkOutcome, number>;
  /** Refusals by PTIME_ERR_* code, from the throttled 'rejected' lines. */
  rejected: Record<string, number>;
}

/** Counts and delay percentiles from numbered echoes (echo-figures.ts), over one or more runs. */
export interface EchoSummary {
  calls: number;
  /** Echo delay (arrival of a frame's echo − the tick it was spoken at), before a cut and after recovery. */
  delayBeforeMs: Percentiles;
  delayAfterMs: Percentiles;
  echoed: number;
  outOfOrder: number;
  duplicatesEchoed: number;
  /** Frames older than the newest echoed that never came back (what was queued at hang-up is not counted). */
  missing: number;
  unreadable: number;
  /** Inbound frames the generator sent after newer ones, and twice. */
  sentLate: number;
  duplicated: number;
  /** Calls closed before the generator hung up, by close code. */
  closedEarly: Record<string, number>;
}

/** A run through the impairment proxy: what the network did, and what the server and callers saw. */
export interface ImpairmentReport {
  network: {
    delayMs: number;
    jitterMs: number;
    stallChance: number;
    stallMs: [number, number];
    /** All traffic held this long mid-call. */
    cutMs: number;
    connections: number;
    stalls: number;
    maxHeldBytes: number;
  };
  server: EndedCalls;
  /** Every call's echoes. */
  echoes: EchoSummary;
  /** The calls whose inbound media was sent out of order and duplicated (Telnyx), alone. */
  disordered: EchoSummary | null;
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
  /** Runs through the impairment proxy (bench/scenarios/impaired-network.ts). */
  impairment?: ImpairmentReport;
}

export interface LoadReport {
  machine: { cpu: string; cores: number; node: string; when: string };
  scenarios: ScenarioReport[];
}
