import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServeArgs, UsageError } from '../../src/cli/serve-args.js';

test('the pacer timing flags reach the engine options; absent, the engine defaults apply', () => {
  const o = parseServeArgs(
    ['--spin-us', '400', '--spin-min-us', '20', '--spin-max-us', '900', '--pacer-timer-slack-us', '5'],
    {},
  );
  assert.equal(o.spinUs, 400);
  assert.equal(o.spinMinUs, 20);
  assert.equal(o.spinMaxUs, 900);
  assert.equal(o.pacerTimerSlackUs, 5);
  const none = parseServeArgs([], {});
  assert.equal(none.spinMinUs, undefined);
  assert.equal(none.pacerTimerSlackUs, undefined);
});

test('a malformed pacer timing flag is a usage error that names the flag', () => {
  assert.throws(
    () => parseServeArgs(['--spin-min-us', 'fast'], {}),
    (e: Error) => e instanceof UsageError && /--spin-min-us/.test(e.message),
  );
  assert.throws(
    () => parseServeArgs(['--pacer-timer-slack-us', '-3'], {}),
    (e: Error) => e instanceof UsageError && /--pacer-timer-slack-us/.test(e.message),
  );
});

test('each value flag sets its engine option; absent, only --port, --log-level and --workers have values', () => {
  const none = parseServeArgs([], {});
  assert.equal(none.port, 8080);
  assert.equal(none.logLevel, 'info');
  assert.equal(none.workers, 1);
  assert.equal(none.logFigures, true);
  assert.equal(none.help, false);
  for (const key of [
    'host',
    'io',
    'queue',
    'lead',
    'phases',
    'pacerNice',
    'metricsPort',
    'twilioAuthToken',
    'audioFile',
    'injectStall',
  ] as const) {
    assert.equal(none[key], undefined, key);
  }
  const o = parseServeArgs(
    [
      '--port=9000',
      '--host',
      '127.0.0.1',
      '--io',
      'worker',
      '--queue',
      '64',
      '--lead',
      '0',
      '--phases',
      '2',
      '--lanes-per-wake',
      '10',
      '--pacer-stall-ms',
      '0',
      '--pacer-nice=-5',
      '--pacer-rt',
      '10',
      '--max-calls',
      '7',
      '--metrics-port',
      '9100',
      '--mark-every-ms',
      '0',
      '--drain-ms',
      '20',
      '--upgrade-timeout-ms',
      '2500',
      '--max-pending-upgrades',
      '300',
      '--public-url',
      'wss://a.example/media',
      '--audio-file',
      'a.wav',
      '--inject-stall',
      '50@500',
      '--log-level',
      'debug',
      '--workers',
      '1',
      '-h',
    ],
    {},
  );
  assert.deepEqual(
    [
      o.port,
      o.host,
      o.io,
      o.queue,
      o.lead,
      o.phases,
      o.lanesPerWake,
      o.pacerStallMs,
      o.pacerNice,
      o.pacerRealtime,
      o.maxCalls,
    ],
    [9000, '127.0.0.1', 'worker', 64, 0, 2, 10, 0, -5, 10, 7],
  );
  assert.deepEqual(
    [o.metricsPort, o.markEveryMs, o.drainMs, o.publicUrl, o.audioFile, o.logLevel, o.help],
    [9100, 0, 20, 'wss://a.example/media', 'a.wav', 'debug', true],
  );
  assert.deepEqual(o.injectStall, { blockMs: 50, everyMs: 500 });
  assert.deepEqual([o.upgradeTimeoutMs, o.maxPendingUpgrades], [2500, 300]);
});

test('a credential flag wins over its environment variable; an empty variable is no credential', () => {
  const env = { TWILIO_AUTH_TOKEN: 'from-env', TELNYX_STREAM_TOKEN: '', VONAGE_WS_AUTH: 'bearer:v' };
  const fromEnv = parseServeArgs([], env);
  assert.equal(fromEnv.twilioAuthToken, 'from-env');
  assert.equal(fromEnv.telnyxStreamToken, undefined);
  assert.equal(fromEnv.vonageAuth, 'bearer:v');
  const fromFlag = parseServeArgs(['--twilio-auth-token', 'flag', '--exotel-credentials', 'k:t'], env);
  assert.equal(fromFlag.twilioAuthToken, 'flag');
  assert.equal(fromFlag.exotelCredentials, 'k:t');
});

test('--carriers and --path build the routes', () => {
  assert.deepEqual(parseServeArgs(['--carriers', 'twilio, telnyx', '--path', '/tw'], {}).routes, {
    '/tw': 'twilio',
    '/telnyx': 'telnyx',
  });
  assert.equal(Object.keys(parseServeArgs([], {}).routes ?? {}).length, 7);
});

test('each malformed flag is a usage error with its own message', () => {
  const cases: [string[], string][] = [
    [['--port', 'x'], '--port takes a whole number (got "x")'],
    [['--queue', '1.5'], '--queue takes a whole number (got "1.5")'],
    [['--log-level', 'loud'], '--log-level must be one of fatal, error, warn, info, debug, trace, silent'],
    [['--io', 'both'], '--io must be main or worker (got "both")'],
    [['--pacer-nice', 'low'], '--pacer-nice takes a whole number from -20 to 19'],
    [['--metrics-port', '70000'], '--metrics-port must be a port from 0 to 65535 (got 70000)'],
    [['--metrics-port', '8080'], '--metrics-port must differ from --port (both 8080)'],
    [
      ['--carriers', 'twilio,skype'],
      '--carriers takes a comma-separated list of twilio, signalwire, telnyx, plivo, exotel, vonage, asterisk (got "twilio,skype")',
    ],
    [['--path', '/telnyx'], "--path /telnyx collides with another carrier's path"],
    [['--twilio-auth-token', ''], '--twilio-auth-token must not be empty'],
    [['--signalwire-token='], '--signalwire-token must not be empty'],
    [
      ['--exotel-credentials', 'nocolon'],
      '--exotel-credentials: Basic credentials must be USER:PASSWORD, both non-empty',
    ],
    [['--audio-file', ''], '--audio-file takes a path to a WAV file'],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseServeArgs(argv, {}),
      (e: Error) => e instanceof UsageError && e.message === message,
      argv.join(' '),
    );
  }
  assert.throws(
    () => parseServeArgs(['--vonage-auth', 'token'], {}),
    (e: Error) =>
      e instanceof UsageError && /^--vonage-auth must be bearer:TOKEN or basic:USER:PASSWORD/.test(e.message),
  );
  assert.throws(
    () => parseServeArgs(['--no-such-flag'], {}),
    (e: Error) => e instanceof UsageError && /--no-such-flag/.test(e.message),
  );
});

test('flags are checked in a fixed order: an empty credential flag is reported before a malformed one', () => {
  assert.throws(
    () => parseServeArgs(['--vonage-auth', ''], { EXOTEL_CREDENTIALS: 'nocolon' }),
    (e: Error) => e instanceof UsageError && e.message === '--vonage-auth must not be empty',
  );
  assert.throws(
    () => parseServeArgs(['--queue', 'q', '--exotel-credentials', 'nocolon'], {}),
    (e: Error) => e instanceof UsageError && /^--exotel-credentials/.test(e.message),
  );
});
