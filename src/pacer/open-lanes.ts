import { HEADER_WORDS, H_OWNER, H_RD, H_WR } from '../ring/lane-layout.js';
import type { LaneWire, PacerCommand } from './pacer-layout.js';

interface OpenLane {
  readonly sab: SharedArrayBuffer;
  readonly header: Int32Array;
  readonly owner: number;
  readonly wire: LaneWire;
}

type OpenCommand = Extract<PacerCommand, { op: 'open' }>;

/**
 * The lanes the pacer paces, as main knows them: what a replacement worker needs to take every
 * open lane over, and what the watchdog looks at. Also which lane buffer the running worker already
 * holds: a reused lane's `open` goes without it, since cloning a SharedArrayBuffer into the worker
 * allocates there for every call, freed later on another thread.
 */
export class OpenLanes {
  private readonly lanes: (OpenLane | undefined)[] = [];
  /** Every lane header ever opened, by index (a closed lane's attention flag is reset at a respawn too). */
  private readonly everOpened: Int32Array[] = [];
  private sabSent: (SharedArrayBuffer | undefined)[] = [];

  /** Lane `lane` is paced from now on; returns the worker's `open` command for it. */
  open(lane: number, sab: SharedArrayBuffer, wire: LaneWire): OpenCommand {
    const header = new Int32Array(sab, 0, HEADER_WORDS);
    this.everOpened[lane] = header;
    const owner = Atomics.load(header, H_OWNER);
    this.lanes[lane] = { sab, header, owner, wire };
    if (this.sabSent[lane] === sab) return { op: 'open', lane, owner, wire };
    this.sabSent[lane] = sab;
    return { op: 'open', lane, owner, sab, wire };
  }

  close(lane: number): void {
    this.lanes[lane] = undefined;
  }

  /** The header of open lane `lane` (undefined once closed). */
  header(lane: number): Int32Array | undefined {
    return this.lanes[lane]?.header;
  }

  /** Every header ever opened. */
  headers(): Int32Array[] {
    return this.everOpened.filter((h): h is Int32Array => h !== undefined);
  }

  /** A new worker holds no lane buffer: the `open` of every open lane, each with its buffer. */
  reopenAll(): OpenCommand[] {
    this.sabSent = [];
    const commands: OpenCommand[] = [];
    for (let i = 0; i < this.lanes.length; i++) {
      const l = this.lanes[i];
      if (!l) continue;
      this.sabSent[i] = l.sab;
      commands.push({ op: 'open', lane: i, owner: l.owner, sab: l.sab, wire: l.wire });
    }
    return commands;
  }

  /** Some open lane has audio queued (the watchdog's clock runs only then). */
  audioQueued(): boolean {
    for (const l of this.lanes) {
      if (l && Atomics.load(l.header, H_WR) !== Atomics.load(l.header, H_RD)) return true;
    }
    return false;
  }
}
