/**
 * What a carrier message may hold, shared by every adapter: each adapter refuses a field past
 * these with a ProtocolRejection (json-fields.ts reads the fields).
 */

/** Ids carriers send are short; anything longer is not a carrier's. */
export const MAX_ID_CHARS = 128;

/** Mark names are ours, echoed back: the protocol cap is the largest maxMarkNameBytes allowed. */
export const MAX_MARK_NAME_CHARS = 4096;

/** The digits a DTMF event may carry: 0-9, * and #, and A-D. */
export const DTMF_DIGIT = /^[0-9*#A-D]$/;
