/**
 * The I/O thread (io: 'worker'): ptime's HTTP and WebSocket server and the sending of every frame,
 * so an application stall on main does not hold a frame back. IoThread does the work; this file
 * wires it to the worker's ports.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IoThread } from '../src/io/io-thread.js';
import type { IoWorkerData } from '../src/io/io-protocol.js';

const data = workerData as IoWorkerData;
const port = parentPort!;
const io = new IoThread(data.settings, data.commands, data.backlog, (msg) => port.postMessage(msg));
await io.start();
