import type { CarrierAuth } from '../server/carrier-auth.js';
import { parseCredential } from '../server/upgrade-credential.js';
import type { SessionLimits } from '../server/stream-session.js';
import type { UpgradeLimits } from '../server/pending-upgrades.js';
import type { ResolvedOptions } from './engine-options.js';

/** The socket side's settings from the engine options, the same whether it runs on main or on the I/O thread. */

/** The credential checks of every carrier route. */
export function carrierAuth(o: ResolvedOptions): CarrierAuth {
  return {
    twilioAuthToken: o.twilioAuthToken,
    publicUrl: o.publicUrl,
    signalwireToken: o.signalwireToken,
    telnyxStreamToken: o.telnyxStreamToken,
    plivoAuthToken: o.plivoAuthToken,
    exotel:
      o.exotelCredentials === undefined
        ? undefined
        : parseCredential(`basic:${o.exotelCredentials}`, 'exotelCredentials'),
    vonage: o.vonageAuth === undefined ? undefined : parseCredential(o.vonageAuth, 'vonageAuth'),
    asterisk: o.asteriskAuth === undefined ? undefined : parseCredential(o.asteriskAuth, 'asteriskAuth'),
  };
}

/** Bounds on connections of ptime's own server that have not upgraded yet. */
export function upgradeLimits(o: ResolvedOptions): UpgradeLimits {
  return { upgradeTimeoutMs: o.upgradeTimeoutMs, maxPendingUpgrades: o.maxPendingUpgrades };
}

/** Per-stream input and output limits. */
export function sessionLimits(o: ResolvedOptions): SessionLimits {
  return {
    maxMarkNameBytes: o.maxMarkNameBytes,
    maxCustomParametersBytes: o.maxCustomParametersBytes,
    inboundPerSec: o.inboundPerSec,
    inboundBurst: o.inboundBurst,
    inboundFloodCloseSec: o.inboundFloodCloseSec,
    startTimeoutMs: o.startTimeoutMs,
    maxBufferedBytes: o.maxBufferedBytes,
    slowPeerCloseMs: o.slowPeerCloseMs,
  };
}
