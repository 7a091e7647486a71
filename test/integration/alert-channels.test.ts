import { afterEach, describe, expect, it } from 'vitest';
import { toolVersion } from '../../src/core/version.js';
import { DeliveryError } from '../../src/watch/alert-channel.js';
import { describeEvent } from '../../src/watch/describe-event.js';
import { createEmailChannel, type EmailChannel } from '../../src/watch/email-channel.js';
import { createSlackChannel, type SlackPayload } from '../../src/watch/slack-channel.js';
import { createWebhookChannel, signWebhook, verifyWebhook } from '../../src/watch/webhook-channel.js';
import type { WatchEvent } from '../../src/watch/watch-event.js';
import { freePort } from '../servers/free-port.js';
import { startSmtpSink, type SmtpSink, type SinkMessage } from '../servers/smtp-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../servers/webhook-receiver.js';

const secret = `whsec_${Buffer.from('integration-test-key-of-32-bytes', 'utf8').toString('base64')}`;

const event: WatchEvent = {
  id: 'evt_01JD4S7Y2Q.analytics-es.opened',
  kind: 'opened',
  at: '2026-11-21T22:01:05.312Z',
  store: {
    name: 'analytics-es',
    target: 'elasticsearch://127.0.0.1:9200',
    protocol: 'elasticsearch',
    owner: 'data-team',
    tags: ['prod', 'metrics'],
  },
  fromState: 'protected',
  toState: 'open',
  // Markup that every format must escape: it stands for hostile text a target could return.
  detail: 'Elasticsearch 7.4.2 answers without credentials <script>alert(1)</script> & more',
  window: {
    openedAt: '2026-11-21T22:01:05.312Z',
    openedAfter: '2026-11-21T22:00:35.101Z',
    lastOpenAt: '2026-11-21T22:01:05.312Z',
    durationMs: 0,
  },
  exposure: {
    classifiedAt: '2026-11-21T22:01:07.000Z',
    records: 2400,
    collections: 3,
    categories: ['email', 'wifi_ssid', 'api_token'],
    subjects: { total: 2400, byCategory: { email: 2400, wifi_ssid: 1900, api_token: 2100 } },
  },
};

async function rejection(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DeliveryError) return error;
    throw error;
  }
  throw new Error('expected a DeliveryError, the send resolved');
}

const never = new AbortController().signal;

describe('webhook channel (real HTTP receiver on loopback)', () => {
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
  });

  it('delivers the event as signed JSON that verifies independently and with verifyWebhook', async () => {
    receiver = await startWebhookReceiver({ secret });
    const url = new URL(receiver.url);
    const channel = createWebhookChannel({
      url: `http://alice:pw@${url.host}${url.pathname}?token=s3cr3t#frag`,
      secret,
    });
    expect(channel.kind).toBe('webhook');
    expect(channel.id).toBe(`webhook:http://${url.host}${url.pathname}`);

    const before = Math.floor(Date.now() / 1000);
    await channel.send(event, never);
    const [request] = await receiver.waitFor(1);
    const after = Math.floor(Date.now() / 1000);

    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toBe(`leakwatch/${toolVersion}`);
    expect(request!.json).toEqual(event);
    expect(request!.headers['webhook-id']).toBe(event.id);
    const timestamp = Number(request!.headers['webhook-timestamp']);
    expect(timestamp).toBeGreaterThanOrEqual(before - 1);
    expect(timestamp).toBeLessThanOrEqual(after + 1);
    expect(request!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(request!.signatureValid).toBe(true);
    expect(verifyWebhook(secret, request!.headers, request!.body)).toBe(true);
  });

  it('fails verification for a tampered body, an old timestamp or another secret', async () => {
    receiver = await startWebhookReceiver({ secret });
    await createWebhookChannel({ url: receiver.url, secret }).send(event, never);
    const [request] = await receiver.waitFor(1);
    const { headers, body } = request!;

    expect(verifyWebhook(secret, headers, body.replace('analytics-es', 'analytics-eu'))).toBe(false);
    expect(verifyWebhook(secret, headers, `${body} `)).toBe(false);

    // Replaying the same signature with a moved timestamp breaks the HMAC...
    const moved = { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 3600) };
    expect(verifyWebhook(secret, moved, body)).toBe(false);
    // ...and a correctly signed but hour-old delivery is outside the 5-minute tolerance.
    const old = Math.floor(Date.now() / 1000) - 3600;
    const oldHeaders = {
      'webhook-id': event.id,
      'webhook-timestamp': String(old),
      'webhook-signature': signWebhook(secret, event.id, old, body),
    };
    expect(verifyWebhook(secret, oldHeaders, body)).toBe(false);
    expect(verifyWebhook(secret, oldHeaders, body, 7200)).toBe(true);

    const other = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    expect(verifyWebhook(other, headers, body)).toBe(false);
  });

  it('treats 503 as retryable, and the retry is delivered with the same webhook-id and a fresh signature', async () => {
    receiver = await startWebhookReceiver({ secret, respond: (n) => (n === 1 ? 503 : 200) });
    const channel = createWebhookChannel({ url: receiver.url, secret });
    const error = await rejection(channel.send(event, never));
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('503');
    await channel.send(event, never);
    const requests = await receiver.waitFor(2);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([event.id, event.id]);
    expect(requests.every((r) => r.signatureValid === true)).toBe(true);
  });

  it.each([
    [400, true],
    [401, true],
    [404, true],
    [410, true],
    [301, true],
    [408, false],
    [429, false],
    [500, false],
    [502, false],
  ])('HTTP %i is permanent: %s', async (status, permanent) => {
    receiver = await startWebhookReceiver({ respond: () => status });
    const error = await rejection(createWebhookChannel({ url: receiver.url, secret }).send(event, never));
    expect(error.permanent).toBe(permanent);
    expect(error.message).toContain(String(status));
  });

  it('gives up on a silent receiver within its timeout, as a retryable error', async () => {
    receiver = await startWebhookReceiver({ respond: () => 'hang' });
    const channel = createWebhookChannel({ url: receiver.url, secret, timeoutMs: 500 });
    const started = Date.now();
    const error = await rejection(channel.send(event, never));
    const elapsed = Date.now() - started;
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('no answer within 500 ms');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(1500);
    expect(receiver.requests).toHaveLength(1);
  });

  it('stops when the caller aborts, and treats a refused connection as retryable', async () => {
    receiver = await startWebhookReceiver({ respond: () => 'hang' });
    const controller = new AbortController();
    const sending = createWebhookChannel({ url: receiver.url, secret }).send(event, controller.signal);
    await receiver.waitFor(1);
    controller.abort();
    const aborted = await rejection(sending);
    expect(aborted.permanent).toBe(false);
    expect(aborted.message).toContain('aborted');

    const nobody = await freePort();
    const refused = await rejection(
      createWebhookChannel({ url: `http://127.0.0.1:${nobody}/`, secret }).send(event, never),
    );
    expect(refused.permanent).toBe(false);
    expect(refused.message).toMatch(/ECONNREFUSED/);
  });
});

describe('Slack channel (incoming-webhook payload to a loopback receiver)', () => {
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
  });

  it('posts { text, blocks } naming the store, the state change, the window, categories and people', async () => {
    receiver = await startWebhookReceiver();
    const channel = createSlackChannel({ url: `${receiver.url}/T0001/B0002/SlackTokenSecret` });
    expect(channel.kind).toBe('slack');
    expect(channel.id).not.toContain('SlackTokenSecret');
    expect(channel.id).toContain('/T0001/B0002/');

    await channel.send(event, never);
    const [request] = await receiver.waitFor(1);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['webhook-signature']).toBeUndefined();
    const payload = request!.json as SlackPayload;

    expect(payload.text).toContain('OPEN: analytics-es (elasticsearch://127.0.0.1:9200)');
    expect(payload.text).toContain('2,400 people');
    expect(payload.text).toContain('email 2,400');
    expect(payload.text).toContain('wifi_ssid 1,900');

    const [header, fields, ...rest] = payload.blocks;
    expect(header).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: 'OPEN: analytics-es (elasticsearch://127.0.0.1:9200) answers without credentials since 2026-11-21T22:01:05Z',
      },
    });
    expect(fields?.type).toBe('section');
    const fieldTexts = fields?.type === 'section' ? (fields.fields ?? []).map((f) => f.text) : [];
    expect(fieldTexts).toEqual([
      '*Store*\nanalytics-es',
      '*Target*\nelasticsearch://127.0.0.1:9200',
      '*State change*\nprotected → open',
      expect.stringContaining('*Since*\n2026-11-21T22:01:05Z (protected at 2026-11-21T22:00:35Z)'),
    ]);
    const sections = rest.flatMap((block) =>
      block.type === 'section' && block.text ? [block.text.text] : [],
    );
    const exposes = sections.find((text) => text.startsWith('*What it exposes*'));
    expect(exposes).toContain('2,400 people: email 2,400, api_token 2,100, wifi_ssid 1,900');
    expect(exposes).toContain('2,400 records in 3 collections');
    const detail = sections.find((text) => text.startsWith('*Detail*'));
    expect(detail).toBe(
      '*Detail*\nElasticsearch 7.4.2 answers without credentials &lt;script&gt;alert(1)&lt;/script&gt; &amp; more',
    );
    expect(request!.body).not.toContain('<script>');
  });

  it('uses the webhook outcome rules: 503 retryable, 404 permanent', async () => {
    receiver = await startWebhookReceiver({ respond: (n) => (n === 1 ? 503 : 404) });
    const channel = createSlackChannel({ url: receiver.url });
    expect((await rejection(channel.send(event, never))).permanent).toBe(false);
    expect((await rejection(channel.send(event, never))).permanent).toBe(true);
  });
});

/** Quoted-printable and base64 parts are decoded so the assertions read text, not transfer encoding. */
function decodedBody(message: SinkMessage): string {
  const parts = message.body.split(/\r?\n--[^\r\n]+\r?\n?/);
  return parts
    .map((part) => {
      const split = part.search(/\r?\n\r?\n/);
      const head = split < 0 ? '' : part.slice(0, split);
      const content = split < 0 ? part : part.slice(split).trimStart();
      if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) {
        const bytes = content
          .replace(/=\r?\n/g, '')
          .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        return Buffer.from(bytes, 'latin1').toString('utf8');
      }
      if (/content-transfer-encoding:\s*base64/i.test(head))
        return Buffer.from(content, 'base64').toString('utf8');
      return content;
    })
    .join('\n');
}

describe('email channel (real SMTP server, smtp-server on loopback)', () => {
  let sink: SmtpSink | undefined;
  let channel: EmailChannel | undefined;
  afterEach(async () => {
    await channel?.close();
    await sink?.stop();
    channel = undefined;
    sink = undefined;
  });

  const to = ['security@example.test', 'oncall@example.test'];

  it('delivers one message with the subject, recipients and a Message-ID derived from the event id', async () => {
    sink = await startSmtpSink();
    channel = createEmailChannel({ smtp: sink.url, from: 'leakwatch@example.test', to, timeoutMs: 2000 });
    expect(channel.kind).toBe('email');
    expect(channel.id).toBe(`email:${to.join(',')} via ${sink.url}`);

    await channel.send(event, never);
    const [message] = await sink.waitFor(1);
    expect(sink.messages).toHaveLength(1);
    expect(message!.envelope).toEqual({ from: 'leakwatch@example.test', to });
    expect(message!.subject).toBe(describeEvent(event).subject);
    expect(message!.subject).toBe(
      '[leakwatch] OPEN: analytics-es (elasticsearch://127.0.0.1:9200) answers without credentials since 2026-11-21T22:01:05Z',
    );
    expect(message!.messageId).toBe(`<${event.id}@leakwatch>`);
    expect(message!.header('to')).toBe('security@example.test, oncall@example.test');
    expect(message!.header('auto-submitted')).toBe('auto-generated');
    expect(message!.header('content-type')).toMatch(/^multipart\/alternative/);

    const text = decodedBody(message!);
    expect(text).toContain('Exposes: 2,400 people: email 2,400, api_token 2,100, wifi_ssid 1,900');
    expect(text).toContain('State: protected → open');
    // The plain part carries the detail as is; the HTML part only escaped.
    expect(text).toContain('<th align="left" valign="top" style="padding-right:1em">Detail</th>');
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    const html = text.slice(text.indexOf('<!doctype html>'));
    expect(html).not.toContain('<script>');

    // A retry of the same event is recognisably the same message.
    await channel.send(event, never);
    const [, again] = await sink.waitFor(2);
    expect(again!.messageId).toBe(message!.messageId);
  });

  it.each([
    ['rcpt', 451, false],
    ['rcpt', 550, true],
    ['data', 451, false],
    ['data', 554, true],
  ] as const)('an SMTP %s reply %i is permanent: %s', async (at, code, permanent) => {
    sink = await startSmtpSink({ failWith: () => ({ code, message: `injected ${code}`, at }) });
    channel = createEmailChannel({ smtp: sink.url, from: 'leakwatch@example.test', to, timeoutMs: 2000 });
    const error = await rejection(channel.send(event, never));
    expect(error.permanent).toBe(permanent);
    expect(error.message).toContain(String(code));
    expect(sink.messages).toHaveLength(0);
    expect(sink.refusals[0]).toMatchObject({ code, at });
  });

  it('fails a partly refused send when a refusal is transient, and accepts it when all refusals are final', async () => {
    sink = await startSmtpSink({
      failWith: (rcpt) =>
        rcpt === 'oncall@example.test' ? { code: 452, message: 'mailbox busy' } : undefined,
    });
    channel = createEmailChannel({ smtp: sink.url, from: 'leakwatch@example.test', to, timeoutMs: 2000 });
    const error = await rejection(channel.send(event, never));
    expect(error.permanent).toBe(false);
    expect(sink.messages.map((m) => m.envelope.to)).toEqual([['security@example.test']]);
    await channel.close();
    await sink.stop();

    sink = await startSmtpSink({
      failWith: (rcpt) =>
        rcpt === 'oncall@example.test' ? { code: 550, message: 'no such user' } : undefined,
    });
    channel = createEmailChannel({ smtp: sink.url, from: 'leakwatch@example.test', to, timeoutMs: 2000 });
    await channel.send(event, never);
    expect(sink.messages.map((m) => m.envelope.to)).toEqual([['security@example.test']]);
  });

  it('treats a refused connection as retryable', async () => {
    const nobody = await freePort();
    channel = createEmailChannel({
      smtp: `smtp://127.0.0.1:${nobody}`,
      from: 'leakwatch@example.test',
      to,
      timeoutMs: 1000,
    });
    const error = await rejection(channel.send(event, never));
    expect(error.permanent).toBe(false);
  });
});
