import type { CarrierAuth } from '../server/carrier-auth.js';
import type { ResolvedOptions } from './engine-options.js';

/** The credential checks of every carrier route, from the engine options. */
export function carrierAuth(o: ResolvedOptions): CarrierAuth {
  return { twilioAuthToken: o.twilioAuthToken, publicUrl: o.publicUrl, signalwireToken: o.signalwireToken, telnyxStreamToken: o.telnyxStreamToken };
}
