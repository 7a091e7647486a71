import type { Detector, FieldContext, Scalar } from './detector.js';
import { deviceWords } from './device-words.js';
import { FieldWordSet } from './field-word-set.js';
import { passesLuhn } from './luhn.js';

const placeholders = new Set(['', 'null', 'none', 'unknown', 'n/a', 'na', 'true', 'false', 'undefined', '-']);

// ---------------------------------------------------------------------------------------------
// device_id: serial numbers, IMEI/MEID, device uuids.

const serialWords = new FieldWordSet([
  'serial',
  'sn',
  'imei',
  'meid',
  'esn',
  'udid',
  'serialno',
  'serialnumber',
  'deviceid',
  'hwid',
  'did',
  'imsi',
  'iccid',
  'androidid',
  'idfv',
  'idfa',
]);
const idWords = new FieldWordSet([
  'id',
  'uuid',
  'uid',
  'guid',
  'identifier',
  'key',
  'no',
  'number',
  'num',
  'token',
]);
// An IMEI is 14 digits + a Luhn check digit (3GPP TS 23.003 §6.2.1, annex B).
const imeiShape = /^\d{15}$/;
const idShape = /^[A-Za-z0-9][A-Za-z0-9:._-]{3,63}$/;
const metaWords = new FieldWordSet(['type', 'count', 'at', 'time', 'name', 'status', 'model', 'version']);

function deviceIdConfidence(field: FieldContext): number {
  let named = 0;
  for (const w of field.keyWords) {
    if (metaWords.has(w)) return 0;
    if (serialWords.has(w)) named = w === 'sn' || w === 'did' ? 0.85 : 0.92;
  }
  if (named > 0) return named;
  // `device_id`, `cams[].uuid`, `hardwareId`: a device word in the path and an id word in the key.
  if (idWords.inKey(field) && deviceWords.inPath(field) && !field.keyWords.includes('token')) return 0.85;
  return 0;
}

function matchDeviceId(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  const named = deviceIdConfidence(field);
  if (named === 0) return 0;
  const s =
    typeof value === 'number' ? (Number.isSafeInteger(value) && value > 0 ? String(value) : '') : value;
  if (s.length < 4 || s.length > 64 || placeholders.has(s.toLowerCase())) return 0;
  if (field.keyWords.includes('imei')) {
    return imeiShape.test(s) && passesLuhn(s) ? 0.97 : 0;
  }
  return idShape.test(s) ? named : 0;
}

export const deviceIdDetector = {
  id: 'device-id',
  category: 'device_id',
  fieldWords: [...serialWords.words, ...idWords.words],
  requiresFieldWord: true,
  match: matchDeviceId,
  examples: {
    match: [
      { path: 'imei', value: '490154203237518' },
      { path: 'cams[].serial_number', value: 'WYZEC1-7C78B2A1' },
      { path: 'device_id', value: '7f9c2ba4-e88f-4b8d-9a3c-1d2e3f4a5b6c' },
      { path: 'devices[].udid', value: '00008030-001A2B3C4D5E802E' },
      { path: 'hub.sn', value: 'SN2019120400123' },
    ],
    noMatch: [
      { path: 'imei', value: '490154203237519' },
      { path: 'user_id', value: '7f9c2ba4-e88f-4b8d-9a3c-1d2e3f4a5b6c' },
      { path: 'device_type', value: 'camera' },
      { path: 'serial', value: 'n/a' },
      { path: 'order_id', value: '490154203237518' },
    ],
  },
} as const satisfies Detector;

// ---------------------------------------------------------------------------------------------
// device_model: product/model codes (`WYZEC1-JZ`, `iPhone12,1`, `SM-G973F`).

const modelWords = new FieldWordSet([
  'model',
  'hwmodel',
  'productmodel',
  'modelname',
  'modelno',
  'devicemodel',
  'hardware',
]);
// Data-science "models" and car models on non-device records are not device models; a `sku` is a
// stock-keeping unit of a shop's catalogue (one product in one colour and pack), not a model code.
const notModelWords = new FieldWordSet([
  'sku',
  'ml',
  'ai',
  'data',
  'llm',
  'prediction',
  'score',
  'version',
  'ver',
  'id',
  'at',
  'time',
  'count',
  'car',
  'vehicle',
]);
// A catalogue code: letters and digits with a few separators, at most a few words.
const modelShape = /^[A-Za-z0-9][A-Za-z0-9 ,._+/()-]{0,47}$/;
const hasLetter = /[A-Za-z]/;
const hasDigitChar = /\d/;

function matchDeviceModel(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string' || value.length < 2 || value.length > 48) return 0;
  let named = false;
  for (const w of field.keyWords) {
    if (notModelWords.has(w)) return 0;
    if (modelWords.has(w)) named = true;
  }
  if (!named) return 0;
  // `hardware` alone is a hardware revision unless the path is about devices.
  if (field.keyWords.includes('hardware') && !field.keyWords.includes('model')) return 0;
  if (!modelShape.test(value) || !hasLetter.test(value) || placeholders.has(value.toLowerCase())) return 0;
  let spaces = 0;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) === 32) spaces++;
  if (spaces > 4) return 0;
  return deviceWords.inPath(field) || field.keyWords.length > 1 ? 0.9 : 0.8;
}

export const deviceModelDetector = {
  id: 'device-model',
  category: 'device_model',
  fieldWords: modelWords.words,
  requiresFieldWord: true,
  match: matchDeviceModel,
  examples: {
    match: [
      { path: 'cams[].product_model', value: 'WYZEC1-JZ' },
      { path: 'device.model', value: 'iPhone12,1' },
      { path: 'hw_model', value: 'SM-G973F' },
      { path: 'model', value: 'Pixel 4a' },
    ],
    noMatch: [
      { path: 'ml_model', value: 'resnet50' },
      { path: 'model_version', value: '1.2.3' },
      { path: 'name', value: 'WYZEC1-JZ' },
      { path: 'model', value: '12345' },
      { path: 'model', value: 'unknown' },
      { path: 'sku', value: 'WYZE-CP1-WHT' },
      { path: 'items[].sku_model', value: 'WYZE-C1-JZ' },
    ],
  },
} as const satisfies Detector;

// ---------------------------------------------------------------------------------------------
// firmware_version: firmware or OS versions of devices (`4.9.6.156`, `v2.10.3-rc1`, `17.2.1`).

const firmwareWords = new FieldWordSet([
  'firmware',
  'fw',
  'fwver',
  'fwversion',
  'firmwareversion',
  'bootloader',
  'baseband',
  'rom',
]);
const versionWords = new FieldWordSet(['version', 'ver', 'v', 'release', 'build', 'osversion', 'osver']);
const osWords = new FieldWordSet(['os', 'android', 'ios', 'system', 'kernel', 'platform', 'sw', 'software']);
const notVersionWords = new FieldWordSet([
  'at',
  'time',
  'date',
  'schema',
  'api',
  'protocol',
  'doc',
  'document',
  'seq',
  'model',
  'update',
  'updated',
  'available',
  'latest',
  'target',
]);
// Dotted numeric versions with an optional `v` and a pre-release or build suffix (SemVer 2.0.0 §9-10).
const dottedVersion = /^[vV]?\d{1,6}(?:\.\d{1,6}){1,5}(?:[-_+ ][A-Za-z0-9._-]{1,32})?$/;
// Vendor build strings: `20191204_1.2`, `A520FXXU4CSL1` — only with a firmware word.
const buildShape = /^[A-Za-z0-9][A-Za-z0-9._+-]{1,47}$/;

function matchFirmwareVersion(value: Scalar, field: FieldContext): number {
  let s: string;
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number' && value >= 0) s = String(value);
  else return 0;
  if (s.length === 0 || s.length > 48) return 0;
  let firmware = false;
  let version = false;
  let os = false;
  for (const w of field.keyWords) {
    if (notVersionWords.has(w)) return 0;
    if (firmwareWords.has(w)) firmware = true;
    else if (versionWords.has(w)) version = true;
    else if (osWords.has(w)) os = true;
  }
  if (firmware) {
    if (dottedVersion.test(s)) return 0.95;
    return buildShape.test(s) && hasLetter.test(s) && hasDigitChar.test(s) ? 0.8 : 0;
  }
  if (!version) return 0;
  if (!dottedVersion.test(s)) return 0;
  // `os_version` or any version on a device record; a bare `version` elsewhere is too general.
  if (os || deviceWords.inPath(field) || firmwareWords.inPath(field)) return 0.9;
  return 0;
}

export const firmwareVersionDetector = {
  id: 'firmware-version',
  category: 'firmware_version',
  fieldWords: [...firmwareWords.words, ...versionWords.words],
  requiresFieldWord: true,
  match: matchFirmwareVersion,
  examples: {
    match: [
      { path: 'cams[].firmware_ver', value: '4.9.6.156' },
      { path: 'fw', value: 'v2.10.3-rc1' },
      { path: 'device.os_version', value: '17.2.1' },
      { path: 'devices[].version', value: '1.0.26' },
      { path: 'firmware', value: 'A520FXXU4CSL1' },
    ],
    noMatch: [
      { path: 'schema_version', value: '1.0.0' },
      { path: 'version', value: '2.3.4' },
      { path: 'firmware_updated_at', value: '2019-12-04' },
      { path: 'cams[].version', value: 'latest' },
      { path: 'fw', value: 'n/a' },
    ],
  },
} as const satisfies Detector;

// ---------------------------------------------------------------------------------------------
// device_name: user-chosen nicknames ("Baby Room").

const nicknameWords = new FieldWordSet([
  'nickname',
  'nick',
  'label',
  'alias',
  'displayname',
  'devicename',
  'cameraname',
  'camname',
  'friendlyname',
]);
const nameWords = new FieldWordSet(['name', 'title']);
const notNameWords = new FieldWordSet([
  'model',
  'product',
  'vendor',
  'manufacturer',
  'brand',
  'type',
  'file',
  'host',
  'hostname',
  'ssid',
  'wifi',
  'network',
  'user',
  'owner',
  'first',
  'last',
  'full',
  'at',
  'time',
  'id',
  'firmware',
  'fw',
  'version',
]);
const personWords = new FieldWordSet([
  'user',
  'users',
  'account',
  'owner',
  'profile',
  'customer',
  'person',
  'member',
  'contact',
]);
// Network equipment and generic hardware words: their `name` is an administrator's, not a nickname.
const infrastructureWords = new FieldWordSet([
  'ap',
  'router',
  'gateway',
  'modem',
  'switch',
  'bridge',
  'node',
  'station',
  'base',
  'controller',
  'hw',
  'hardware',
  'firmware',
  'fw',
]);
// Printable text without `@` (an email is not a nickname); control characters fail `\P{Cc}`.
const nameShape = /^[\P{Cc}]{1,64}$/u;
const hasAt = /@/;
const uuidLike = /^[0-9a-f-]{16,}$/i;

/**
 * Whether the path is about a household device its owner names (`cams[]`, `devices[]`,
 * `hub`): device words other than network equipment's. An access point's, router's or switch's
 * name (`ap_name: AP-3F-EAST`) is set by whoever runs the network, an inventory name rather than
 * a person's nickname for their camera (TAXONOMY.md device_name).
 */
function onOwnedDevice(field: FieldContext): boolean {
  for (const w of field.pathWords) if (deviceWords.has(w) && !infrastructureWords.has(w)) return true;
  return false;
}

function matchDeviceName(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return 0;
  let nick = false;
  let name = false;
  for (const w of field.keyWords) {
    if (notNameWords.has(w)) return 0;
    if (nicknameWords.has(w)) nick = true;
    else if (nameWords.has(w)) name = true;
  }
  const onDevice = onOwnedDevice(field);
  let confidence = 0;
  if (nick) confidence = onDevice ? 0.95 : personWords.inPath(field) ? 0 : 0.6;
  else if (name && onDevice) confidence = 0.9;
  if (confidence === 0) return 0;
  if (
    !nameShape.test(value) ||
    hasAt.test(value) ||
    !hasLetter.test(value) ||
    uuidLike.test(value) ||
    placeholders.has(value.toLowerCase())
  )
    return 0;
  return confidence;
}

export const deviceNameDetector = {
  id: 'device-name',
  category: 'device_name',
  fieldWords: [...nicknameWords.words, ...nameWords.words],
  requiresFieldWord: true,
  match: matchDeviceName,
  examples: {
    match: [
      { path: 'cams[].nickname', value: 'Baby Room' },
      { path: 'devices[].name', value: "Grandma's Porch" },
      { path: 'camera_name', value: 'Garage' },
      { path: 'hub.label', value: 'Kitchen Hub 2' },
    ],
    noMatch: [
      { path: 'user.nickname', value: 'Johnny' },
      { path: 'product.name', value: 'Wyze Cam v2' },
      { path: 'devices[].model', value: 'WYZEC1-JZ' },
      { path: 'cams[].nickname', value: '7f9c2ba4-e88f-4b8d-9a3c-1d2e3f4a5b6c' },
      { path: 'name', value: 'Baby Room' },
      { path: 'ap_name', value: 'AP-3F-EAST' },
      { path: 'routers[].name', value: 'core-rtr-2' },
    ],
  },
} as const satisfies Detector;
