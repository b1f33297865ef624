/**
 * Every error ptime raises or counts carries a stable `PTIME_ERR_*` code (listed in README), so
 * callers and dashboards can branch on the code rather than on message text.
 */
export const ErrorCodes = {
  INVALID_OPTION: 'PTIME_ERR_INVALID_OPTION',
  QUEUE_BOUND: 'PTIME_ERR_QUEUE_BOUND',
  INVALID_AUDIO: 'PTIME_ERR_INVALID_AUDIO',
  UTTERANCE: 'PTIME_ERR_UTTERANCE',
  MARK_NAME: 'PTIME_ERR_MARK_NAME',
  TOO_MANY_CALLS: 'PTIME_ERR_TOO_MANY_CALLS',
  BAD_JSON: 'PTIME_ERR_BAD_JSON',
  BINARY_FRAME: 'PTIME_ERR_BINARY_FRAME',
  UNKNOWN_EVENT: 'PTIME_ERR_UNKNOWN_EVENT',
  BAD_MESSAGE: 'PTIME_ERR_BAD_MESSAGE',
  NOT_STARTED: 'PTIME_ERR_NOT_STARTED',
  DUPLICATE_START: 'PTIME_ERR_DUPLICATE_START',
  STREAM_SID: 'PTIME_ERR_STREAM_SID',
  BAD_PAYLOAD: 'PTIME_ERR_BAD_PAYLOAD',
  PAYLOAD_SIZE: 'PTIME_ERR_PAYLOAD_SIZE',
  MESSAGE_TOO_BIG: 'PTIME_ERR_MESSAGE_TOO_BIG',
  MEDIA_FORMAT: 'PTIME_ERR_MEDIA_FORMAT',
  PACER_FAILED: 'PTIME_ERR_PACER_FAILED',
  SAMPLE_RATE: 'PTIME_ERR_SAMPLE_RATE',
  CODEC_JOB: 'PTIME_ERR_CODEC_JOB',
  BAD_SIGNATURE: 'PTIME_ERR_BAD_SIGNATURE',
  SHUTTING_DOWN: 'PTIME_ERR_SHUTTING_DOWN',
  CUSTOM_PARAMETERS: 'PTIME_ERR_CUSTOM_PARAMETERS',
  INBOUND_RATE: 'PTIME_ERR_INBOUND_RATE',
  SLOW_PEER: 'PTIME_ERR_SLOW_PEER',
  START_TIMEOUT: 'PTIME_ERR_START_TIMEOUT',
  PEER_GONE: 'PTIME_ERR_PEER_GONE',
  /** io: 'worker': the I/O thread failed; its calls were closed (1011) and a new one serves new calls. */
  IO_FAILED: 'PTIME_ERR_IO_FAILED',
  /** A media frame that arrived after later ones were delivered (carriers without ordered delivery: Telnyx). */
  INBOUND_ORDER: 'PTIME_ERR_INBOUND_ORDER',
  /** io: 'worker': main fell so far behind that inbound media past the backlog bound was dropped. */
  INBOUND_BACKLOG: 'PTIME_ERR_INBOUND_BACKLOG',
  /** ptime's own server: a connection that sent no complete upgrade request within upgradeTimeoutMs (closed). */
  UPGRADE_TIMEOUT: 'PTIME_ERR_UPGRADE_TIMEOUT',
  /** ptime's own server: maxPendingUpgrades connections had not upgraded yet; one more got 503. */
  PENDING_UPGRADES: 'PTIME_ERR_PENDING_UPGRADES',
  /** ptime's own server (or `ptime serve --metrics-port`) could not listen: the port is taken, privileged, or the host is not ours. */
  LISTEN: 'PTIME_ERR_LISTEN',
  /** A call's recording could not be written (the path and the reason are in the message); the call goes on. */
  RECORDING: 'PTIME_ERR_RECORDING',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class PtimeError extends Error {
  readonly code: ErrorCode;

  /** `options.cause`: the error underneath (a listen error's errno is on it), as `Error.cause`. */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PtimeError';
    this.code = code;
  }
}

/** A protocol message we refused: counted and logged, never fatal for other calls. */
export class ProtocolRejection extends PtimeError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'ProtocolRejection';
  }
}
