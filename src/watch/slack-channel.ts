/**
 * Slack incoming webhooks (https://api.slack.com/messaging/webhooks): a JSON POST of `{ text, blocks }`,
 * where `text` is the notification fallback and `blocks` the Block Kit layout. Compatible receivers
 * (Mattermost, Rocket.Chat, Discord's `/slack` endpoint) read the same shape.
 */
import { UsageError } from '../core/errors.js';
import type { AlertChannel } from './alert-channel.js';
import {
  describeChanges,
  describeEvent,
  describeExposure,
  describeStateChange,
  describeWindow,
  formatTime,
} from './describe-event.js';
import { parseHttpUrl, postJson } from './post-json.js';
import type { WatchEvent } from './watch-event.js';

export interface SlackChannelOptions {
  url: string;
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
}

/** The Block Kit subset this channel sends. */
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string } }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] };
export interface SlackText {
  type: 'mrkdwn';
  text: string;
}
export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

// Block Kit limits: header text 150 characters, section text 3000, a field 2000.
const headerMax = 150;
const sectionMax = 3000;
const fieldMax = 2000;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Slack's mrkdwn treats only these three as control characters (api.slack.com "Escaping text"). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function field(label: string, value: string): SlackText {
  return { type: 'mrkdwn', text: cut(`*${label}*\n${escapeMrkdwn(value)}`, fieldMax) };
}

function section(label: string, value: string): SlackBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: cut(`*${label}*\n${escapeMrkdwn(value)}`, sectionMax) },
  };
}

/** The message for one event; exported so the layout can be tested and previewed without a server. */
export function slackPayload(event: WatchEvent): SlackPayload {
  const { subject } = describeEvent(event);
  const headline = subject.replace(/^\[leakwatch\] /, '');
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(headline, headerMax) } },
    {
      type: 'section',
      fields: [
        field('Store', event.store.name),
        field('Target', event.store.target),
        field('State change', describeStateChange(event)),
        field('Since', describeWindow(event) ?? formatTime(event.at)),
      ],
    },
  ];
  const exposure = describeExposure(event.exposure);
  if (exposure !== undefined) blocks.push(section('What it exposes', exposure));
  const changes = describeChanges(event);
  if (changes !== undefined) blocks.push(section('Changes', changes));
  if (event.detail !== '') blocks.push(section('Detail', event.detail));
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: escapeMrkdwn(`leakwatch event ${event.id} (${event.kind})`) }],
  });
  // The fallback shows in notifications and screen readers: the headline plus who is affected.
  const text = escapeMrkdwn(exposure === undefined ? subject : `${subject}. Exposes ${exposure}`);
  return { text: cut(text, sectionMax), blocks };
}

/** Path segments of a Slack webhook URL after `/services/T…/B…/` are its secret token. */
function slackChannelId(url: URL): string {
  const segments = url.pathname.split('/');
  const last = segments.length - 1;
  if (last > 1 && segments[last] !== '') segments[last] = '***';
  return `slack:${url.protocol}//${url.host}${segments.join('/')}`;
}

/** A Slack incoming webhook. Same HTTP outcome rules as the webhook channel. */
export function createSlackChannel(options: SlackChannelOptions): AlertChannel {
  const url = parseHttpUrl(options.url, 'Slack webhook');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`Slack timeout must be a positive number of milliseconds, not ${timeoutMs}`);
  }
  return {
    kind: 'slack',
    id: slackChannelId(url),
    async send(event: WatchEvent, signal: AbortSignal): Promise<void> {
      await postJson(url, { body: JSON.stringify(slackPayload(event)), signal, timeoutMs });
    },
  };
}
