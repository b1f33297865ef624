import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { ErrorCodes, PtimeError } from '../../src/errors.js';
import {
  checkTwilioSignature,
  expectedTwilioSignature,
  requestUrl,
  SIGNATURE_HEADER,
  type UpgradeRequestLike,
} from '../../src/server/twilio-signature.js';

const TOKEN = 'ptime-test-token';
const STREAM_URL = 'wss://voice.example.com/media';

/** Written independently of the code under test, so a shared mistake cannot pass both. */
function reference(token: string, url: string): string {
  return createHmac('sha1', token).update(url).digest('base64');
}

function upgrade(
  url: string | undefined,
  headers: Record<string, string | string[] | undefined>,
  encrypted = false,
): UpgradeRequestLike {
  return { url, headers, socket: encrypted ? { encrypted: true } : {} };
}

test("Twilio's published example: the signed string is the URL then name+value of each sorted POST param", () => {
  // From the "Validating signatures from Twilio" example in Twilio's security docs
  // (twilio.com/docs/usage/webhooks/webhooks-security): token 12345, POST to
  // https://mycompany.com/myapp.php?foo=1&bar=2 with CallSid, Caller, Digits, From, To.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params: Record<string, string> = {
    CallSid: 'CA1234567890ABCDE',
    Caller: '+12349013030',
    Digits: '1234',
    From: '+12349013030',
    To: '+18005551212',
  };
  const signed =
    url +
    Object.keys(params)
      .sort()
      .map((k) => k + params[k])
      .join('');
  assert.equal(
    signed,
    'https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212',
  );
  assert.equal(expectedTwilioSignature('12345', signed), '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  assert.deepEqual(checkTwilioSignature('12345', signed, '0/KCTR6DLpKmkAf8muzZqo1nDgQ='), { ok: true });

  // The older edition of the same example (TwilioDevEd/api-snippets signature_validation.2.x.js)
  // used +14158675309 and published RSOYDt4T1cUTdK1PDd93/VVr8B8=.
  const older = signed.replaceAll('+12349013030', '+14158675309');
  assert.equal(expectedTwilioSignature('12345', older), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
});

test('an upgrade has no body: the signature covers the wss URL alone', () => {
  assert.equal(expectedTwilioSignature(TOKEN, STREAM_URL), reference(TOKEN, STREAM_URL));
  // Pinned with `printf %s URL | openssl dgst -sha1 -hmac TOKEN -binary | base64`, a third
  // implementation, so a change to both sides of this file cannot go unnoticed.
  assert.equal(expectedTwilioSignature(TOKEN, STREAM_URL), 'gSQUm6sHLY+I1YGFfNGSqZrqSKk=');
  assert.deepEqual(checkTwilioSignature(TOKEN, STREAM_URL, reference(TOKEN, STREAM_URL)), { ok: true });

  const withQuery = `${STREAM_URL}?bodySHA256=abc&x=1`;
  assert.deepEqual(checkTwilioSignature(TOKEN, withQuery, reference(TOKEN, withQuery)), { ok: true });
});

test('a signature made with another token, or for another URL, is a mismatch', () => {
  const good = reference(TOKEN, STREAM_URL);
  const mismatch = { ok: false, reason: 'mismatch' };
  assert.deepEqual(checkTwilioSignature('another-token', STREAM_URL, good), mismatch);
  assert.deepEqual(checkTwilioSignature(TOKEN, STREAM_URL, reference('another-token', STREAM_URL)), mismatch);
  for (const url of [
    'wss://voice.example.com/media2',
    'wss://voice.example.com/media?x=1',
    'ws://voice.example.com/media',
    'https://voice.example.com/media',
    'wss://evil.example.com/media',
    'wss://voice.example.com:8443/media',
  ]) {
    assert.deepEqual(checkTwilioSignature(TOKEN, url, good), mismatch, url);
  }
  // Flipping one bit of a valid signature keeps the form but not the match.
  const flipped = Buffer.from(good, 'base64');
  flipped[0] = (flipped[0] ?? 0) ^ 1;
  assert.deepEqual(checkTwilioSignature(TOKEN, STREAM_URL, flipped.toString('base64')), mismatch);
});

test('the URL is compared byte for byte, not normalised', () => {
  // twilio-node runs the URL through new URL(), which turns ' into %27; Twilio signs what it
  // sent, so ptime does not accept one spelling for the other.
  const quoted = "wss://voice.example.com/media?n=it's";
  assert.deepEqual(checkTwilioSignature(TOKEN, quoted, reference(TOKEN, quoted)), { ok: true });
  assert.deepEqual(checkTwilioSignature(TOKEN, quoted, reference(TOKEN, 'wss://voice.example.com/media?n=it%27s')), {
    ok: false,
    reason: 'mismatch',
  });
  assert.deepEqual(checkTwilioSignature(TOKEN, STREAM_URL, reference(TOKEN, `${STREAM_URL}/`)), {
    ok: false,
    reason: 'mismatch',
  });
});

test('a missing header is "missing"', () => {
  assert.deepEqual(checkTwilioSignature(TOKEN, STREAM_URL, undefined), { ok: false, reason: 'missing' });
  assert.deepEqual(checkTwilioSignature(TOKEN, STREAM_URL, ''), { ok: false, reason: 'missing' });
});

test('a header that is not the base64 of 20 bytes, or is repeated, is "malformed"', () => {
  const good = reference(TOKEN, STREAM_URL);
  const malformed = { ok: false, reason: 'malformed' };
  const cases: [string, string | string[]][] = [
    ['not base64', 'this is not a signature!!!!='],
    ['16 bytes', Buffer.alloc(16, 7).toString('base64')],
    ['32 bytes (an HMAC-SHA256)', createHmac('sha256', TOKEN).update(STREAM_URL).digest('base64')],
    ['hex digest', createHmac('sha1', TOKEN).update(STREAM_URL).digest('hex')],
    ['unpadded', good.slice(0, -1)],
    ['base64url alphabet', good.replaceAll('+', '-').replaceAll('/', '_').replace(/^./, '-')],
    ['surrounding space', ` ${good}`],
    ['trailing garbage', `${good}AAAA`],
    ['two headers joined by Node', `${good}, ${good}`],
    ['array of two', [good, good]],
    ['array of one', [good]],
  ];
  for (const [name, header] of cases) {
    assert.deepEqual(checkTwilioSignature(TOKEN, STREAM_URL, header), malformed, name);
  }
  // Same 20 bytes, different string: the last character carries 2 spare bits that must be zero.
  const last = good.at(-2) ?? 'A';
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const nonCanonical = `${good.slice(0, -2)}${alphabet[alphabet.indexOf(last) | 1]}=`;
  assert.deepEqual(Buffer.from(nonCanonical, 'base64'), Buffer.from(good, 'base64'));
  assert.deepEqual(checkTwilioSignature(TOKEN, STREAM_URL, nonCanonical), malformed);
});

test("the default port is accepted both ways, as Twilio's own validators do", () => {
  const cases: [signed: string, received: string][] = [
    ['wss://voice.example.com:443/media', 'wss://voice.example.com/media'],
    ['wss://voice.example.com/media', 'wss://voice.example.com:443/media'],
    ['https://voice.example.com:443/media?x=1', 'https://voice.example.com/media?x=1'],
    ['ws://localhost/media', 'ws://localhost:80/media'],
    ['http://localhost:80/media', 'http://localhost/media'],
    ['WSS://voice.example.com:443/media', 'WSS://voice.example.com/media'],
    ['wss://user:pw@voice.example.com:443/media', 'wss://user:pw@voice.example.com/media'],
    ['wss://[2001:db8::1]:443/media', 'wss://[2001:db8::1]/media'],
    ['wss://[2001:db8::1]/media', 'wss://[2001:db8::1]:443/media'],
    ['wss://voice.example.com:443', 'wss://voice.example.com'],
  ];
  for (const [signed, received] of cases) {
    assert.deepEqual(
      checkTwilioSignature(TOKEN, received, reference(TOKEN, signed)),
      { ok: true },
      `${signed} -> ${received}`,
    );
  }
});

test('only the default port is toggled: wss is 443, and other ports are never stripped', () => {
  const mismatch = { ok: false, reason: 'mismatch' };
  // twilio-node and twilio-python add :80 to anything that is not https; wss listens on 443.
  assert.deepEqual(
    checkTwilioSignature(TOKEN, STREAM_URL, reference(TOKEN, 'wss://voice.example.com:80/media')),
    mismatch,
  );
  assert.deepEqual(
    checkTwilioSignature(TOKEN, 'ws://localhost/media', reference(TOKEN, 'ws://localhost:443/media')),
    mismatch,
  );
  assert.deepEqual(
    checkTwilioSignature(TOKEN, 'wss://voice.example.com:8443/media', reference(TOKEN, STREAM_URL)),
    mismatch,
  );
  assert.deepEqual(
    checkTwilioSignature(TOKEN, STREAM_URL, reference(TOKEN, 'wss://voice.example.com:8443/media')),
    mismatch,
  );
  assert.deepEqual(
    checkTwilioSignature(
      TOKEN,
      'wss://voice.example.com:8443/media',
      reference(TOKEN, 'wss://voice.example.com:8443/media'),
    ),
    { ok: true },
  );
  // An IPv6 literal's colons are not a port.
  assert.deepEqual(
    checkTwilioSignature(TOKEN, 'wss://[2001:db8::1]/media', reference(TOKEN, 'wss://[2001:db8::1:443]/media')),
    mismatch,
  );
});

test('an empty auth token is refused, since with it anyone could sign', () => {
  const expected = (err: unknown): boolean => {
    assert.ok(err instanceof PtimeError);
    assert.equal(err.code, ErrorCodes.INVALID_OPTION);
    assert.match(err.message, /auth token is empty/);
    return true;
  };
  assert.throws(() => expectedTwilioSignature('', STREAM_URL), expected);
  assert.throws(() => checkTwilioSignature('', STREAM_URL, reference('', STREAM_URL)), expected);
  assert.throws(() => checkTwilioSignature('', STREAM_URL, undefined), expected);
});

test('requestUrl with publicUrl: scheme, host and path from it; the query from the request unless it has one', () => {
  const req = upgrade('/internal/ws?From=%2B1555&x=1', { host: '10.0.0.7:8080' });
  assert.equal(requestUrl(STREAM_URL, req), 'wss://voice.example.com/media?From=%2B1555&x=1');
  assert.equal(requestUrl(STREAM_URL, upgrade('/internal/ws', { host: '10.0.0.7:8080' })), STREAM_URL);
  assert.equal(requestUrl(STREAM_URL, upgrade('/internal/ws?', {})), `${STREAM_URL}?`);
  assert.equal(requestUrl(STREAM_URL, upgrade(undefined, {})), STREAM_URL);
  assert.equal(requestUrl('wss://voice.example.com/media?tenant=a', req), 'wss://voice.example.com/media?tenant=a');
  assert.equal(
    requestUrl('wss://voice.example.com:8443/media', upgrade('/media?x=1', {})),
    'wss://voice.example.com:8443/media?x=1',
  );
  // publicUrl wins over the request's headers even when they claim otherwise.
  const lying = upgrade('/media', { host: 'evil.example.com', 'x-forwarded-proto': 'http' }, false);
  assert.equal(requestUrl(STREAM_URL, lying), STREAM_URL);
});

test('requestUrl without publicUrl: ws(s):// + Host + request URL', () => {
  assert.equal(
    requestUrl(undefined, upgrade('/media?x=1', { host: 'localhost:8080' })),
    'ws://localhost:8080/media?x=1',
  );
  assert.equal(requestUrl(undefined, upgrade('/media', { host: 'voice.example.com' }, true)), STREAM_URL);
  const viaProxy = (proto: string | string[]): string =>
    requestUrl(undefined, upgrade('/media', { host: 'voice.example.com', 'x-forwarded-proto': proto }));
  assert.equal(viaProxy('https'), STREAM_URL);
  assert.equal(viaProxy('wss'), STREAM_URL);
  assert.equal(viaProxy('HTTPS'), STREAM_URL);
  assert.equal(viaProxy('https, http'), STREAM_URL);
  assert.equal(viaProxy(['https', 'http']), STREAM_URL);
  assert.equal(viaProxy('http'), 'ws://voice.example.com/media');
  assert.equal(viaProxy('http, https'), 'ws://voice.example.com/media');
  // A TLS socket is wss whatever a header says.
  assert.equal(
    requestUrl(undefined, upgrade('/media', { host: 'voice.example.com', 'x-forwarded-proto': 'http' }, true)),
    STREAM_URL,
  );
  assert.equal(requestUrl(undefined, upgrade(undefined, { host: 'h' })), 'ws://h/');
  // No Host: a URL no genuine signature covers, so the check fails closed.
  assert.equal(requestUrl(undefined, upgrade('/media', {}, true)), 'wss:///media');
});

test('requestUrl takes a real IncomingMessage, and its result checks end to end', () => {
  const req = new IncomingMessage(new Socket());
  req.url = '/media';
  req.headers = {
    host: 'voice.example.com',
    'x-forwarded-proto': 'https',
    [SIGNATURE_HEADER]: reference(TOKEN, STREAM_URL),
  };
  const url = requestUrl(undefined, req);
  assert.equal(url, STREAM_URL);
  assert.deepEqual(checkTwilioSignature(TOKEN, url, req.headers[SIGNATURE_HEADER]), { ok: true });
  // Twilio may have signed the :443 form while the proxy reports the bare host.
  req.headers[SIGNATURE_HEADER] = reference(TOKEN, 'wss://voice.example.com:443/media');
  assert.deepEqual(checkTwilioSignature(TOKEN, requestUrl(undefined, req), req.headers[SIGNATURE_HEADER]), {
    ok: true,
  });
  req.headers.host = 'evil.example.com';
  assert.deepEqual(checkTwilioSignature(TOKEN, requestUrl(undefined, req), req.headers[SIGNATURE_HEADER]), {
    ok: false,
    reason: 'mismatch',
  });
  assert.deepEqual(checkTwilioSignature(TOKEN, requestUrl(STREAM_URL, req), req.headers[SIGNATURE_HEADER]), {
    ok: true,
  });
});
