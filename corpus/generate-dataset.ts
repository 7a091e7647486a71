/**
 * A synthetic, labelled dataset shaped like the leaked analytics copy of DESIGN.md's story: account
 * documents of a smart-home camera vendor in two naming styles, a CSV device export, a smart-scale
 * beta table and an Elasticsearch bulk file of app events with free text. Every field path is
 * labelled with the categories of TAXONOMY.md it holds, and the people per category are counted
 * exactly as TAXONOMY.md counts them, into `<out>/labels.json`.
 *
 *   npm run gen:dataset -- --users N [--out DIR] [--seed S] [--files accounts.ndjson,...]
 *
 * Deterministic from the seed; written in a stream (bounded memory at millions of users). All
 * values are invented: e-mail domains are real providers' names but the local parts are generated,
 * phone numbers are valid-shaped but random, tokens are random bytes in the vendors' formats.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { categorySensitivity, type Category } from '../src/core/category.js';
import type { SubjectCounts } from '../src/core/scan-report.js';
import type { CorpusLabels, FileLabels } from './corpus-labels.js';

export const datasetFiles = [
  'accounts.ndjson',
  'profiles.ndjson',
  'devices.csv',
  'scale_users.json',
  'events-bulk.ndjson',
] as const;
export type DatasetFile = (typeof datasetFiles)[number];

export interface GenerateDatasetOptions {
  users: number;
  out: string;
  seed?: number;
  /** Which files to write (default all); the bench needs the account documents only. */
  files?: readonly DatasetFile[];
}

export interface DatasetSummary {
  users: number;
  seed: number;
  out: string;
  bytes: number;
  ms: number;
  labels: CorpusLabels;
}

const categories = Object.keys(categorySensitivity) as Category[];
const categoryBit = Object.fromEntries(categories.map((c, i) => [c, i])) as Record<Category, number>;

/** Field tables: the single source of both the labels and the per-person category masks. */
type FieldTable = Record<string, Category[]>;

// Snake_case nested documents of the main backend (user ids are integers).
const accountFields = {
  user_id: ['user_id'],
  email: ['email'],
  username: ['username'],
  plan: [],
  locale: [],
  push_enabled: [],
  'shared_with[].email': ['email'],
  'shared_with[].role': [],
  'cams[].nickname': ['device_name'],
  'cams[].model': ['device_model'],
  'cams[].firmware': ['firmware_version'],
  'cams[].mac': ['mac_address'],
  'cams[].serial': ['device_id'],
  'cams[].online': [],
  'home.net.ssid': ['wifi_ssid'],
  'home.net.subnet': ['network_layout'],
  // A gateway is an address (syntax) and part of the home network's layout (TAXONOMY.md).
  'home.net.gateway': ['ip_address', 'network_layout'],
  last_login: ['activity_time'],
  last_logout: ['activity_time'],
  last_on: ['activity_time'],
  'api.ios_token': ['api_token'],
  'api.android_token': ['api_token'],
  'alexa.access_token': ['oauth_token'],
  'alexa.refresh_token': ['oauth_token'],
  'body_metrics.height': ['health_metric'],
  'body_metrics.weight': ['health_metric'],
  'body_metrics.gender': ['gender'],
  'body_metrics.bmi': ['health_metric'],
  'body_metrics.body_fat': ['health_metric'],
  'body_metrics.bone_mass': ['health_metric'],
  'body_metrics.muscle_mass': ['health_metric'],
  'body_metrics.water': ['health_metric'],
} satisfies FieldTable;

// CamelCase documents of the mobile backend (user ids are UUIDs, MACs bare hex).
const profileFields = {
  userId: ['user_id'],
  emailAddress: ['email'],
  userName: ['username'],
  phoneNumber: ['phone'],
  tier: [],
  marketingOptIn: [],
  'sharedWith[].email': ['email'],
  'sharedWith[].permission': [],
  'devices[].deviceName': ['device_name'],
  'devices[].productModel': ['device_model'],
  'devices[].firmwareVer': ['firmware_version'],
  'devices[].macAddress': ['mac_address'],
  'devices[].serialNumber': ['device_id'],
  'devices[].signalBars': [],
  'homeNetwork.wifiSsid': ['wifi_ssid'],
  'homeNetwork.lanSubnet': ['network_layout'],
  'homeNetwork.routerIp': ['ip_address', 'network_layout'],
  lastLoginAt: ['activity_time'],
  lastLogoutAt: ['activity_time'],
  lastSeenOnline: ['activity_time'],
  'tokens.iosAccessToken': ['api_token'],
  'tokens.androidAccessToken': ['api_token'],
  'integrations.alexa.accessToken': ['oauth_token'],
  'integrations.alexa.refreshToken': ['oauth_token'],
  'bodyMetrics.heightIn': ['health_metric'],
  'bodyMetrics.weightLb': ['health_metric'],
  'bodyMetrics.sex': ['gender'],
  'bodyMetrics.bodyFatPct': ['health_metric'],
  'bodyMetrics.boneMassLb': ['health_metric'],
  'bodyMetrics.restingHeartRate': ['health_metric'],
} satisfies FieldTable;

const deviceColumns = {
  device_mac: ['mac_address'],
  device_model: ['device_model'],
  fw_ver: ['firmware_version'],
  owner_email: ['email'],
  ssid: ['wifi_ssid'],
  last_seen: ['activity_time'],
  serial_no: ['device_id'],
  device_label: ['device_name'],
  local_ip: ['ip_address'],
  rssi: [],
  status: [],
} satisfies FieldTable;

const scaleFields = {
  uid: ['user_id'],
  name: ['person_name'],
  email: ['email'],
  sex: ['gender'],
  dob: ['date_of_birth'],
  heightCm: ['health_metric'],
  weightKg: ['health_metric'],
  BMI: ['health_metric'],
  bodyFat: ['health_metric'],
  boneMass: ['health_metric'],
  muscleMass: ['health_metric'],
  visceralFat: ['health_metric'],
  scaleSn: ['device_id'],
  unit: [],
} satisfies FieldTable;

// Elasticsearch bulk file: `_index` is the collection, `_source` paths the fields.
const appEventFields = {
  '@timestamp': ['activity_time'],
  event: [],
  user_id: ['user_id'],
  client_ip: ['ip_address'],
  'device.mac': ['mac_address'],
  'device.model': ['device_model'],
  // Free text: the user's own e-mail address and phone number in some messages.
  message: ['email', 'phone'],
  duration_ms: [],
} satisfies FieldTable;

const telemetryFields = {
  '@timestamp': ['activity_time'],
  owner_id: ['user_id'],
  mac: ['mac_address'],
  fw: ['firmware_version'],
  rssi: [],
  uptime_s: [],
  // JSON inside a string value: its paths continue (DESIGN.md).
  'payload.ssid': ['wifi_ssid'],
  'payload.band': [],
  'payload.channel': [],
} satisfies FieldTable;

function maskOf(table: FieldTable, paths: readonly string[]): number {
  let mask = 0;
  for (const path of paths) {
    const cats = table[path];
    if (cats === undefined) throw new Error(`unknown field ${path}`);
    for (const c of cats) mask |= 1 << categoryBit[c];
  }
  return mask;
}

function keysWithPrefix(table: FieldTable, prefix: string): string[] {
  return Object.keys(table).filter((k) => k.startsWith(prefix));
}

const bit = (c: Category): number => 1 << categoryBit[c];

const A = {
  base: maskOf(accountFields, ['user_id', 'email', 'username', 'last_login', 'last_on']),
  logout: maskOf(accountFields, ['last_logout']),
  cams: maskOf(accountFields, keysWithPrefix(accountFields, 'cams[].')),
  net: maskOf(accountFields, keysWithPrefix(accountFields, 'home.net.')),
  ios: maskOf(accountFields, ['api.ios_token']),
  android: maskOf(accountFields, ['api.android_token']),
  alexa: maskOf(accountFields, keysWithPrefix(accountFields, 'alexa.')),
  body: maskOf(accountFields, keysWithPrefix(accountFields, 'body_metrics.')),
};
const P = {
  base: maskOf(profileFields, ['userId', 'emailAddress', 'userName', 'lastLoginAt', 'lastSeenOnline']),
  logout: maskOf(profileFields, ['lastLogoutAt']),
  phone: maskOf(profileFields, ['phoneNumber']),
  cams: maskOf(profileFields, keysWithPrefix(profileFields, 'devices[].')),
  net: maskOf(profileFields, keysWithPrefix(profileFields, 'homeNetwork.')),
  ios: maskOf(profileFields, ['tokens.iosAccessToken']),
  android: maskOf(profileFields, ['tokens.androidAccessToken']),
  alexa: maskOf(profileFields, keysWithPrefix(profileFields, 'integrations.alexa.')),
  body: maskOf(profileFields, keysWithPrefix(profileFields, 'bodyMetrics.')),
};
const deviceRowMask = maskOf(deviceColumns, Object.keys(deviceColumns));
const scaleMask = maskOf(scaleFields, Object.keys(scaleFields));
const E = {
  event: maskOf(appEventFields, ['@timestamp', 'user_id', 'client_ip', 'device.mac', 'device.model']),
  anonymous: maskOf(appEventFields, ['@timestamp', 'client_ip']),
  telemetry: maskOf(telemetryFields, Object.keys(telemetryFields)),
};

/** sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG): fast, 128-bit state, seedable. */
class Random {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  float(): number {
    return this.next() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  chars(alphabet: string, length: number): string {
    const bytes = length <= scratch.length ? scratch : Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) bytes[i] = alphabet.charCodeAt(this.next() % alphabet.length);
    return bytes.toString('latin1', 0, length);
  }
}

// Token characters are ASCII: one reused byte buffer turned into a string in one call.
const scratch = Buffer.allocUnsafe(512);

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64URL = BASE62 + '-_';
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_UPPER = HEX.map((h) => h.toUpperCase());
const hex = (b: number): string => HEX[b] ?? '';
const hexUpper = (b: number): string => HEX_UPPER[b] ?? '';

const firstNames = [
  'james',
  'mary',
  'john',
  'patricia',
  'robert',
  'jennifer',
  'michael',
  'linda',
  'william',
  'elizabeth',
  'david',
  'barbara',
  'richard',
  'susan',
  'joseph',
  'jessica',
  'thomas',
  'sarah',
  'charles',
  'karen',
  'chris',
  'nancy',
  'daniel',
  'lisa',
  'matthew',
  'betty',
  'anthony',
  'margaret',
  'mark',
  'sandra',
  'donald',
  'ashley',
  'steven',
  'kimberly',
  'paul',
  'emily',
  'andrew',
  'donna',
  'joshua',
  'michelle',
  'kenji',
  'priya',
  'ahmed',
  'sofia',
  'lukas',
  'chloe',
  'mateo',
  'aisha',
  'ivan',
  'mei',
];
const lastNames = [
  'smith',
  'johnson',
  'williams',
  'brown',
  'jones',
  'garcia',
  'miller',
  'davis',
  'rodriguez',
  'martinez',
  'hernandez',
  'lopez',
  'gonzalez',
  'wilson',
  'anderson',
  'thomas',
  'taylor',
  'moore',
  'jackson',
  'martin',
  'lee',
  'perez',
  'thompson',
  'white',
  'harris',
  'sanchez',
  'clark',
  'ramirez',
  'lewis',
  'robinson',
  'walker',
  'young',
  'allen',
  'king',
  'wright',
  'scott',
  'torres',
  'nguyen',
  'hill',
  'flores',
  'tanaka',
  'patel',
  'khan',
  'rossi',
  'muller',
  'dubois',
  'silva',
  'kowalski',
  'novak',
  'chen',
];
const domains = [
  'gmail.com',
  'yahoo.com',
  'outlook.com',
  'icloud.com',
  'hotmail.com',
  'aol.com',
  'comcast.net',
  'proton.me',
];
const nicknames = [
  'Baby Room',
  'Front Door',
  'Garage',
  'Living Room',
  'Backyard',
  'Nursery',
  'Kitchen',
  'Driveway',
  'Porch',
  'Office',
  'Bedroom',
  'Dog Cam',
  'Basement',
  'Side Yard',
  "Mom's Room",
  'Front Door, Left',
  'Cat Cam',
  'Patio',
];
const models = ['WYZEC1-JZ', 'WYZE_CAKP2JFUS', 'WYZECP1_JEF', 'WVOD1', 'WYZEC1', 'WYZEDB3', 'HL_CAM3P'];
const firmwares = ['4.9.6.156', '4.36.0.112', '4.25.1.42', '4.10.3.50', '4.28.4.41', '4.9.4.37'];
const ouis = [
  [0x2c, 0xaa, 0x8e],
  [0x7c, 0x78, 0xb2],
  [0xd0, 0x3f, 0x27],
] as const;
const plans = ['free', 'cam_plus', 'cam_plus_pro'];
const locales = ['en_US', 'en_GB', 'de_DE', 'fr_FR', 'es_US', 'ja_JP'];
const roles = ['viewer', 'admin'];
const ukMobile = ['4', '5', '7', '8', '9'];
const usAreaCodes = [
  '212',
  '213',
  '312',
  '415',
  '503',
  '617',
  '646',
  '702',
  '718',
  '773',
  '805',
  '917',
  '206',
  '404',
];
const plainEvents: readonly (readonly [string, string])[] = [
  ['camera_offline', 'Camera went offline after 3 retries'],
  ['stream_start', 'Live stream started from the app'],
  ['motion_upload', 'Motion event uploaded (2 clips)'],
  ['night_vision_on', 'Night vision switched on automatically'],
  ['sd_format', 'SD card formatted by owner'],
];
/** 2019-12-04T00:00:00Z, the day the copy lost its protection, in seconds. */
const EPOCH = 1_575_417_600;

function mac(rng: Random, style: 'colon' | 'bare' | 'dash'): string {
  const oui = rng.pick(ouis);
  const r = rng.next();
  const a = oui[0];
  const b = oui[1];
  const c = oui[2];
  const d = r & 255;
  const e = (r >>> 8) & 255;
  const f = (r >>> 16) & 255;
  switch (style) {
    case 'colon':
      return `${hexUpper(a)}:${hexUpper(b)}:${hexUpper(c)}:${hexUpper(d)}:${hexUpper(e)}:${hexUpper(f)}`;
    case 'bare':
      return `${hex(a)}${hex(b)}${hex(c)}${hex(d)}${hex(e)}${hex(f)}`;
    case 'dash':
      return `${hex(a)}-${hex(b)}-${hex(c)}-${hex(d)}-${hex(e)}-${hex(f)}`;
  }
}

function uuid(rng: Random): string {
  let h = '';
  for (let i = 0; i < 16; i++) {
    let b = rng.int(256);
    if (i === 6) b = (b & 0x0f) | 0x40;
    if (i === 8) b = (b & 0x3f) | 0x80;
    h += hex(b);
    if (i === 3 || i === 5 || i === 7 || i === 9) h += '-';
  }
  return h;
}

function phoneCandidate(rng: Random): string {
  const area = rng.pick(usAreaCodes);
  // NANP: exchanges 200-999, never N11 (service codes), so libphonenumber accepts the number.
  let exchange = 200 + rng.int(800);
  if (exchange % 100 === 11) exchange++;
  const line = String(rng.int(10000)).padStart(4, '0');
  switch (rng.int(5)) {
    case 0:
      return `+1${area}${exchange}${line}`;
    case 1:
      return `(${area}) ${exchange}-${line}`;
    case 2:
      return `+1 ${area}-${exchange}-${line}`;
    case 3:
      // UK mobile, E.164 with spaces (Ofcom numbering: 07 then 9 digits; 076 is pagers, 070 personal).
      return `+44 7${rng.pick(ukMobile)}${String(rng.int(100)).padStart(2, '0')} ${String(rng.int(1_000_000)).padStart(6, '0')}`;
    default:
      // German mobile (015x/016x/017x), international format.
      return `+49 15${1 + rng.int(9)} ${String(rng.int(100_000_000)).padStart(8, '0')}`;
  }
}

/**
 * A phone number libphonenumber's full metadata calls valid (with US as the region of national
 * forms): ground truth must not count numbers that no validator would accept.
 */
function phone(rng: Random): string {
  for (;;) {
    const candidate = phoneCandidate(rng);
    if (isValidPhoneNumber(candidate, 'US')) return candidate;
  }
}

function ssid(rng: Random, last: string): string {
  switch (rng.int(6)) {
    case 0:
      return `NETGEAR${String(rng.int(100)).padStart(2, '0')}`;
    case 1:
      return `TP-Link_${hexUpper(rng.int(256))}${hexUpper(rng.int(256))}`;
    case 2:
      return `${last.charAt(0).toUpperCase()}${last.slice(1)} Family WiFi`;
    case 3:
      return `MySpectrumWiFi${hex(rng.int(256))}-5G`;
    case 4:
      return `ATT${rng.chars('ABCDEFGHJKMNPQRSTUVWXYZ23456789', 3)}`;
    default:
      return `Linksys${String(rng.int(100000)).padStart(5, '0')}`;
  }
}

function homeNet(rng: Random): { subnet: string; gateway: string } {
  switch (rng.int(4)) {
    case 0:
      return { subnet: '192.168.1.0/24', gateway: '192.168.1.1' };
    case 1: {
      const x = rng.int(255);
      return { subnet: `192.168.${x}.0/24`, gateway: `192.168.${x}.1` };
    }
    case 2:
      return { subnet: '10.0.0.0/24', gateway: '10.0.0.1' };
    default: {
      const x = 16 + rng.int(16);
      return { subnet: `172.${x}.0.0/20`, gateway: `172.${x}.0.1` };
    }
  }
}

const isoDays = new Map<number, string>();
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const pad2 = (n: number): string => PAD2[n] ?? '';

/** ISO 8601 UTC with milliseconds, as `Date#toISOString` writes it, with the date part cached. */
function iso(seconds: number): string {
  const day = Math.floor(seconds / 86400);
  let prefix = isoDays.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
    isoDays.set(day, prefix);
  }
  const t = seconds - day * 86400;
  return `${prefix}${pad2(Math.floor(t / 3600))}:${pad2(Math.floor(t / 60) % 60)}:${pad2(t % 60)}.000Z`;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * Buffered synchronous writer: text is encoded straight into one reused buffer, so there are no
 * per-line syscalls and no long concatenated strings for the collector to chase.
 */
class FileSink {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(1 << 22);
  private used = 0;
  bytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(text: string): void {
    // Every generated value is ASCII, so latin1 is UTF-8 here, one byte per unit, and cheaper.
    if (this.used + text.length > this.buffer.length) this.flush();
    if (text.length > this.buffer.length) {
      this.bytes += writeSync(this.fd, text);
      return;
    }
    this.used += this.buffer.write(text, this.used, 'latin1');
  }

  flush(): void {
    let offset = 0;
    while (offset < this.used) offset += writeSync(this.fd, this.buffer, offset, this.used - offset);
    this.bytes += this.used;
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Distinct people of one file, per category (TAXONOMY.md counting). */
class Tally {
  total = 0;
  readonly byCategory = new Float64Array(categories.length);

  person(mask: number): void {
    this.total++;
    for (let i = 0; mask !== 0; i++, mask >>>= 1)
      if (mask & 1) this.byCategory[i] = (this.byCategory[i] ?? 0) + 1;
  }

  toCounts(): SubjectCounts {
    const byCategory: SubjectCounts['byCategory'] = {};
    categories.forEach((c, i) => {
      const n = this.byCategory[i] ?? 0;
      if (n > 0) byCategory[c] = n;
    });
    return { total: this.total, byCategory };
  }
}

interface User {
  i: number;
  first: string;
  last: string;
  email: string;
  username: string;
  intId: number;
  uuid: string;
  inProfiles: boolean;
  beta: boolean;
  cams: { nickname: string; model: string; firmware: string; mac: string; serial: string }[];
  lastLogin: number;
  lastLogout: number | null;
  lastOn: number;
  net: { ssid: string; subnet: string; gateway: string } | null;
}

function parseArgs(argv: readonly string[]): GenerateDatasetOptions {
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const users = Number(value('--users') ?? '20000');
  if (!Number.isInteger(users) || users < 1) throw new Error('--users must be a positive integer');
  const seed = Number(value('--seed') ?? '1');
  const files = value('--files')?.split(',') as DatasetFile[] | undefined;
  for (const f of files ?? [])
    if (!datasetFiles.includes(f)) throw new Error(`--files: unknown file ${f} (${datasetFiles.join(', ')})`);
  return { users, seed, out: resolve(value('--out') ?? 'dataset'), ...(files ? { files } : {}) };
}

/** Writes the dataset and its labels; returns the labels and what it cost. */
export function generateDataset(options: GenerateDatasetOptions): DatasetSummary {
  const started = performance.now();
  const { users: n, out } = options;
  const seed = options.seed ?? 1;
  const wanted = new Set<DatasetFile>(options.files ?? datasetFiles);
  mkdirSync(out, { recursive: true });
  const rng = new Random(seed);

  const sinks = new Map<DatasetFile, FileSink>();
  for (const f of wanted) if (f !== 'scale_users.json') sinks.set(f, new FileSink(join(out, f)));
  const accounts = sinks.get('accounts.ndjson');
  const profiles = sinks.get('profiles.ndjson');
  const devices = sinks.get('devices.csv');
  const events = sinks.get('events-bulk.ndjson');
  devices?.write(Object.keys(deviceColumns).join(',') + '\n');

  const tally = {
    accounts: new Tally(),
    profiles: new Tally(),
    devices: new Tally(),
    scale: new Tally(),
    events: new Tally(),
  };
  const records = { accounts: 0, profiles: 0, devices: 0, scale: 0, appEvents: 0, telemetry: 0 };
  // Share recipients are people without accounts here (disjoint addresses), so that counting them
  // needs no identity linking TAXONOMY.md does not define; each is one person per file.
  const guests = Math.max(64, Math.floor(n * 0.6));
  const recipientsSeen = { accounts: new Uint8Array(guests), profiles: new Uint8Array(guests) };
  const betaCount = Math.min(140, Math.floor(n / 10));
  const betaStride = betaCount > 0 ? Math.floor(n / betaCount) : Infinity;
  const scaleRows: string[] = [];
  let eventId = 0;

  // Duplicated documents ("loaded twice") come back a little later, not next to their first copy.
  const pendingDuplicates: { sink: FileSink; line: string }[] = [];

  const guestEmail = (g: number): string =>
    `${firstNames[g % firstNames.length] ?? ''}.${lastNames[Math.floor(g / firstNames.length) % lastNames.length] ?? ''}.${g}@${domains[(g >> 3) % domains.length] ?? ''}`;

  for (let i = 0; i < n; i++) {
    const first = rng.pick(firstNames);
    const last = rng.pick(lastNames);
    const camCount = rng.float() < 0.12 ? 0 : 1 + rng.int(3);
    const lastLogin = EPOCH - rng.int(90 * 86400);
    const user: User = {
      i,
      first,
      last,
      email: `${first}.${last}${i}@${rng.pick(domains)}`,
      username: rng.int(2) === 0 ? `${first}_${last}${i % 997}` : `${first.charAt(0)}${last}${i}`,
      intId: 1_000_000 + i,
      uuid: uuid(rng),
      inProfiles: rng.int(4) === 3,
      beta: i % betaStride === 0 && i / betaStride < betaCount,
      cams: [],
      lastLogin,
      lastLogout: rng.float() < 0.8 ? lastLogin + rng.int(86400) : null,
      lastOn: lastLogin + rng.int(5 * 86400),
      net: null,
    };
    for (let c = 0; c < camCount; c++) {
      user.cams.push({
        nickname: rng.pick(nicknames),
        model: rng.pick(models),
        firmware: rng.pick(firmwares),
        mac: '',
        serial: rng.chars('0123456789ABCDEF', 12),
      });
    }
    if (rng.float() < 0.9) user.net = { ssid: ssid(rng, last), ...homeNet(rng) };
    const shares: number[] = [];
    if (rng.float() < 0.2) for (let s = 1 + rng.int(3); s > 0; s--) shares.push(rng.int(guests));
    const hasIos = rng.float() < 0.6;
    const hasAndroid = !hasIos || rng.float() < 0.25;
    const alexa = rng.float() < 0.01;
    const duplicate = rng.float() < 0.02;

    if (!user.inProfiles && accounts) {
      let mask = A.base;
      let s = `{"user_id":${user.intId},"email":"${user.email}","username":"${user.username}","plan":"${rng.pick(plans)}","locale":"${rng.pick(locales)}","push_enabled":${rng.int(2) === 0}`;
      if (shares.length > 0) {
        s += `,"shared_with":[${shares.map((g) => `{"email":"${guestEmail(g)}","role":"${rng.pick(roles)}"}`).join(',')}]`;
      }
      if (user.cams.length > 0) {
        mask |= A.cams;
        s += `,"cams":[${user.cams
          .map(
            (c) =>
              `{"nickname":"${c.nickname}","model":"${c.model}","firmware":"${c.firmware}","mac":"${mac(rng, 'colon')}","serial":"${c.serial}","online":${rng.int(3) > 0}}`,
          )
          .join(',')}]`;
      } else s += ',"cams":[]';
      if (user.net) {
        mask |= A.net;
        s += `,"home":{"net":{"ssid":"${user.net.ssid}","subnet":"${user.net.subnet}","gateway":"${user.net.gateway}"}}`;
      }
      // Three time encodings in one collection, as analytics copies accumulate them.
      s += `,"last_login":${user.lastLogin}`;
      if (user.lastLogout !== null) {
        mask |= A.logout;
        s += `,"last_logout":${user.lastLogout * 1000 + rng.int(1000)}`;
      } else s += ',"last_logout":null';
      s += `,"last_on":"${iso(user.lastOn)}"`;
      s += ',"api":{';
      if (hasIos) {
        mask |= A.ios;
        s += `"ios_token":"${rng.chars(BASE62, 32)}"`;
      }
      if (hasAndroid) {
        mask |= A.android;
        s += `${hasIos ? ',' : ''}"android_token":"${rng.chars(BASE64URL, 43)}"`;
      }
      s += '}';
      if (alexa) {
        mask |= A.alexa;
        // Login with Amazon token shapes: "Atza|" access and "Atzr|" refresh tokens (LWA docs).
        s += `,"alexa":{"access_token":"Atza|${rng.chars(BASE64URL, 300)}","refresh_token":"Atzr|${rng.chars(BASE64URL, 300)}"}`;
      }
      if (user.beta) {
        mask |= A.body;
        const h = 150 + rng.int(45);
        const w = 48 + rng.int(70);
        s += `,"body_metrics":{"height":${h},"weight":${round1(w + rng.float())},"gender":"${rng.int(2) === 0 ? 'male' : 'female'}","bmi":${round1(w / (h / 100) ** 2)},"body_fat":${round1(10 + rng.float() * 25)},"bone_mass":${round1(2 + rng.float() * 2)},"muscle_mass":${round1(30 + rng.float() * 30)},"water":${round1(45 + rng.float() * 20)}}`;
      }
      s += '}\n';
      accounts.write(s);
      records.accounts++;
      tally.accounts.person(mask);
      for (const g of shares) {
        if (recipientsSeen.accounts[g] === 0) {
          recipientsSeen.accounts[g] = 1;
          tally.accounts.person(bit('email'));
        }
      }
      if (duplicate) pendingDuplicates.push({ sink: accounts, line: s });
    }

    if (user.inProfiles && profiles) {
      let mask = P.base;
      const hasPhone = rng.float() < 0.4;
      let s = `{"userId":"${user.uuid}","emailAddress":"${user.email}","userName":"${user.username}"`;
      if (hasPhone) {
        mask |= P.phone;
        s += `,"phoneNumber":"${phone(rng)}"`;
      }
      s += `,"tier":"${rng.pick(plans)}","marketingOptIn":${rng.int(2) === 0}`;
      if (shares.length > 0) {
        s += `,"sharedWith":[${shares.map((g) => `{"permission":"${rng.pick(roles)}","email":"${guestEmail(g)}"}`).join(',')}]`;
      }
      if (user.cams.length > 0) {
        mask |= P.cams;
        s += `,"devices":[${user.cams
          .map(
            (c) =>
              `{"deviceName":"${c.nickname}","productModel":"${c.model}","firmwareVer":"${c.firmware}","macAddress":"${mac(rng, 'bare')}","serialNumber":"${c.serial}","signalBars":${rng.int(5)}}`,
          )
          .join(',')}]`;
      }
      if (user.net) {
        mask |= P.net;
        s += `,"homeNetwork":{"wifiSsid":"${user.net.ssid}","lanSubnet":"${user.net.subnet}","routerIp":"${user.net.gateway}"}`;
      }
      s += `,"lastLoginAt":"${iso(user.lastLogin)}","lastSeenOnline":${user.lastOn * 1000 + rng.int(1000)}`;
      if (user.lastLogout !== null) {
        mask |= P.logout;
        s += `,"lastLogoutAt":${user.lastLogout}`;
      }
      s += ',"tokens":{';
      if (hasIos) {
        mask |= P.ios;
        s += `"iosAccessToken":"${rng.chars(BASE62, 32)}"`;
      }
      if (hasAndroid) {
        mask |= P.android;
        s += `${hasIos ? ',' : ''}"androidAccessToken":"${rng.chars(BASE64URL, 43)}"`;
      }
      s += '}';
      if (alexa) {
        mask |= P.alexa;
        s += `,"integrations":{"alexa":{"accessToken":"Atza|${rng.chars(BASE64URL, 300)}","refreshToken":"Atzr|${rng.chars(BASE64URL, 300)}"}}`;
      }
      if (user.beta) {
        mask |= P.body;
        s += `,"bodyMetrics":{"heightIn":${59 + rng.int(19)},"weightLb":${round1(105 + rng.float() * 150)},"sex":"${rng.int(2) === 0 ? 'M' : 'F'}","bodyFatPct":${round1(10 + rng.float() * 25)},"boneMassLb":${round1(4.5 + rng.float() * 4)},"restingHeartRate":${52 + rng.int(35)}}`;
      }
      s += '}\n';
      profiles.write(s);
      records.profiles++;
      tally.profiles.person(mask);
      for (const g of shares) {
        if (recipientsSeen.profiles[g] === 0) {
          recipientsSeen.profiles[g] = 1;
          tally.profiles.person(bit('email'));
        }
      }
      if (duplicate) pendingDuplicates.push({ sink: profiles, line: s });
    }

    if (devices && user.cams.length > 0) {
      for (const c of user.cams) {
        const seen = iso(user.lastOn + rng.int(3600));
        const label = c.nickname.includes(',') ? `"${c.nickname}"` : c.nickname;
        const localIp = user.net ? user.net.gateway.replace(/\.1$/, `.${2 + rng.int(250)}`) : '';
        devices.write(
          `${mac(rng, 'dash')},${c.model},${c.firmware},${user.email},${user.net?.ssid ?? ''},${seen.slice(0, 10)} ${seen.slice(11, 19)},${c.serial},${label},${localIp},${-30 - rng.int(60)},${rng.int(3) > 0 ? 'online' : 'offline'}\n`,
        );
        records.devices++;
      }
      // Every row has the owner's e-mail, so each owner is one person; a row without a network
      // has empty ssid/local_ip cells, which hold nothing.
      let mask = deviceRowMask;
      if (!user.net) mask &= ~(bit('wifi_ssid') | bit('ip_address'));
      tally.devices.person(mask);
    }

    if (user.beta && wanted.has('scale_users.json')) {
      const h = 150 + rng.int(45);
      const w = round1(48 + rng.float() * 70);
      const year = 1950 + rng.int(50);
      const dob = `${year}-${String(1 + rng.int(12)).padStart(2, '0')}-${String(1 + rng.int(28)).padStart(2, '0')}`;
      const name = `${first.charAt(0).toUpperCase()}${first.slice(1)} ${last.charAt(0).toUpperCase()}${last.slice(1)}`;
      scaleRows.push(
        `{"uid":${user.intId},"name":"${name}","email":"${user.email}","sex":"${rng.int(2) === 0 ? 'M' : 'F'}","dob":"${dob}","heightCm":${h},"weightKg":${w},"BMI":${round1(w / (h / 100) ** 2)},"bodyFat":${round1(10 + rng.float() * 25)},"boneMass":${round1(2 + rng.float() * 2)},"muscleMass":${round1(30 + rng.float() * 30)},"visceralFat":${1 + rng.int(15)},"scaleSn":"${rng.chars('0123456789ABCDEF', 10)}","unit":"metric"}`,
      );
      records.scale++;
      tally.scale.person(scaleMask);
    }

    if (events) {
      let mask = 0;
      const id = user.inProfiles ? `"${user.uuid}"` : String(user.intId);
      const eventCount = user.cams.length > 0 ? rng.int(3) : 0;
      for (let e = 0; e < eventCount; e++) {
        const cam = rng.pick(user.cams);
        const r = rng.float();
        let [kind, message] = rng.pick(plainEvents);
        if (r < 0.04) {
          kind = 'password_reset';
          message = `Password reset link sent to ${user.email}`;
          mask |= bit('email');
        } else if (r < 0.08) {
          kind = 'sms_alert';
          message = `SMS alert delivered to ${phone(rng)} for motion`;
          mask |= bit('phone');
        } else if (r < 0.1) {
          kind = 'support_callback';
          message = `Support callback requested by ${user.email}, reach me at ${phone(rng)} after 5pm`;
          mask |= bit('email') | bit('phone');
        }
        const t = user.lastOn - rng.int(86400);
        events.write(
          `{"index":{"_index":"app-events","_id":"e${eventId++}"}}\n{"@timestamp":"${iso(t)}","event":"${kind}","user_id":${id},"client_ip":"${73 + rng.int(100)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}","device":{"mac":"${mac(rng, 'colon')}","model":"${cam.model}"},"message":"${message}","duration_ms":${rng.int(5000)}}\n`,
        );
        mask |= E.event;
        records.appEvents++;
      }
      const cam = user.cams[0];
      if (cam !== undefined && rng.float() < 0.5) {
        const band = rng.int(2) === 0 ? '2.4GHz' : '5GHz';
        const channel = 1 + rng.int(11);
        const payload = JSON.stringify(
          JSON.stringify(user.net ? { ssid: user.net.ssid, band, channel } : { band, channel }),
        );
        events.write(
          `{"index":{"_index":"cam-telemetry","_id":"t${eventId++}"}}\n{"@timestamp":${(user.lastOn - rng.int(3600)) * 1000},"owner_id":${id},"mac":"${mac(rng, 'bare')}","fw":"${cam.firmware}","rssi":${-30 - rng.int(60)},"uptime_s":${rng.int(1_000_000)},"payload":${payload}}\n`,
        );
        mask |= user.net ? E.telemetry : E.telemetry & ~bit('wifi_ssid');
        records.telemetry++;
      }
      if (mask !== 0) tally.events.person(mask);
      // Events of people who were not logged in: no identifier, so each record is one person.
      if (rng.float() < 0.03) {
        events.write(
          `{"index":{"_index":"app-events","_id":"e${eventId++}"}}\n{"@timestamp":"${iso(EPOCH - rng.int(86400 * 30))}","event":"app_open","client_ip":"${73 + rng.int(100)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}","message":"App opened before sign-in","duration_ms":${rng.int(5000)}}\n`,
        );
        tally.events.person(E.anonymous);
        records.appEvents++;
      }
    }

    if (pendingDuplicates.length >= 64 || (i === n - 1 && pendingDuplicates.length > 0)) {
      for (const d of pendingDuplicates.splice(0)) {
        d.sink.write(d.line);
        if (d.sink === accounts) records.accounts++;
        else records.profiles++;
      }
    }
  }

  if (wanted.has('scale_users.json')) {
    writeFileSync(join(out, 'scale_users.json'), `[\n${scaleRows.join(',\n')}\n]\n`);
  }
  let bytes = 0;
  for (const sink of sinks.values()) {
    sink.close();
    bytes += sink.bytes;
  }

  const labels: CorpusLabels = {
    description: `Generated by corpus/generate-dataset.ts --users ${n} --seed ${seed}`,
    files: {},
  };
  const add = (file: DatasetFile, entry: FileLabels): void => {
    if (wanted.has(file)) labels.files[file] = entry;
  };
  const sharedNote =
    'Share recipients are people without an account in this file; each counts once as an email subject (TAXONOMY.md: recipients are people too).';
  add('accounts.ndjson', {
    format: 'ndjson',
    collections: { accounts: { records: records.accounts, fields: accountFields } },
    subjects: tally.accounts.toCounts(),
    notes: [sharedNote, 'About 2% of documents appear twice; they count once.'],
  });
  add('profiles.ndjson', {
    format: 'ndjson',
    collections: { profiles: { records: records.profiles, fields: profileFields } },
    subjects: tally.profiles.toCounts(),
    notes: [sharedNote, 'About 2% of documents appear twice; they count once.'],
  });
  add('devices.csv', {
    format: 'csv',
    collections: { devices: { records: records.devices, fields: deviceColumns } },
    subjects: tally.devices.toCounts(),
    notes: ['One row per camera; the owner e-mail identifies the person.'],
  });
  add('scale_users.json', {
    format: 'json',
    collections: { scale_users: { records: records.scale, fields: scaleFields } },
    subjects: tally.scale.toCounts(),
  });
  add('events-bulk.ndjson', {
    format: 'es-bulk',
    collections: {
      'app-events': { records: records.appEvents, fields: appEventFields },
      'cam-telemetry': { records: records.telemetry, fields: telemetryFields },
    },
    subjects: tally.events.toCounts(),
    notes: [
      'user_id (app-events) and owner_id (cam-telemetry) hold the same ids: one person per id.',
      'app_open events carry no identifier: each counts as one person.',
      'E-mail addresses and phone numbers in message are the user’s own.',
    ],
  });
  writeFileSync(join(out, 'labels.json'), JSON.stringify(labels, null, 2) + '\n');
  return { users: n, seed, out, bytes, ms: performance.now() - started, labels };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = parseArgs(process.argv.slice(2));
  const summary = generateDataset(options);
  const seconds = summary.ms / 1000;
  process.stderr.write(
    `gen:dataset: ${summary.users} users → ${summary.out} (${(summary.bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(1)} s, ${Math.round(summary.users / seconds)} users/s\n`,
  );
}
