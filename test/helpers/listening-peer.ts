// The suite's listening Twilio peer is the one apps get from 'ptime/testing'.
export { TwilioPeer as ListeningPeer } from '../../src/testing/twilio-peer.js';
