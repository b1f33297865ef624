import { CARRIER_NAMES, type CarrierAdapter, type CarrierName } from './carrier-adapter.js';
import { AsteriskAdapter } from './asterisk-adapter.js';
import { ExotelAdapter } from './exotel-adapter.js';
import { PlivoAdapter } from './plivo-adapter.js';
import { TelnyxAdapter } from './telnyx-adapter.js';
import { SignalWireAdapter, TwilioAdapter } from './twilio-adapter.js';
import { VonageAdapter } from './vonage-adapter.js';

/** Adapters are stateless: one of each serves every stream of that carrier, on any thread. */
const ADAPTERS: Record<CarrierName, CarrierAdapter> = {
  twilio: new TwilioAdapter(),
  signalwire: new SignalWireAdapter(),
  telnyx: new TelnyxAdapter(),
  plivo: new PlivoAdapter(),
  exotel: new ExotelAdapter(),
  vonage: new VonageAdapter(),
  asterisk: new AsteriskAdapter(),
};

export function adapterFor(name: CarrierName): CarrierAdapter {
  return ADAPTERS[name];
}

export function isCarrierName(name: string): name is CarrierName {
  return (CARRIER_NAMES as readonly string[]).includes(name);
}

/** The path each carrier is mounted on by `ptime serve`. */
export const DEFAULT_CARRIER_PATHS: Record<CarrierName, string> = {
  twilio: '/media',
  signalwire: '/signalwire',
  telnyx: '/telnyx',
  plivo: '/plivo',
  exotel: '/exotel',
  vonage: '/vonage',
  asterisk: '/asterisk',
};
