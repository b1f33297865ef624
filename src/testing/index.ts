/** `ptime/testing`: the carrier's side of a call, for testing an app's call logic against a real engine. */
export { TwilioPeer } from './twilio-peer.js';
export { RealtimeListener } from '../loadtest/realtime-listener.js';
