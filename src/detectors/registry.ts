import { activityEventTimeDetector, activityTimeDetector } from './activity-time.js';
import { apiTokenDetector } from './api-token.js';
import { bankAccountDetector } from './bank-account.js';
import { cloudCredentialDetector } from './cloud-credential.js';
import { dateOfBirthDetector } from './date-of-birth.js';
import type { Detector } from './detector.js';
import {
  deviceIdDetector,
  deviceModelDetector,
  deviceNameDetector,
  firmwareVersionDetector,
} from './device.js';
import { emailDetector } from './email.js';
import { genderDetector } from './gender.js';
import { geolocationDetector } from './geolocation.js';
import { healthMetricDetector } from './health-metric.js';
import { jwtDetector } from './jwt.js';
import { nationalIdDetector } from './national-id.js';
import { ipAddressDetector, macAddressDetector, networkLayoutDetector } from './network.js';
import { oauthTokenDetector } from './oauth-token.js';
import { passwordHashDetector } from './password-hash.js';
import { passwordDetector } from './password.js';
import { paymentCardDetector } from './payment-card.js';
import { personNameDetector } from './person-name.js';
import { phoneDetector } from './phone.js';
import { postalAddressDetector } from './postal-address.js';
import { privateKeyDetector } from './private-key.js';
import { userIdDetector } from './user-id.js';
import { usernameDetector } from './username.js';
import { wifiSsidDetector } from './wifi-ssid.js';

/**
 * Every detector, in the order ties are broken: vendor formats and checksummed formats first, then
 * shapes with validators, then detectors that lean on field words, the generic high-entropy token
 * last among secrets.
 */
export const detectors: readonly Detector[] = [
  privateKeyDetector,
  cloudCredentialDetector,
  oauthTokenDetector,
  jwtDetector,
  passwordHashDetector,
  paymentCardDetector,
  bankAccountDetector,
  nationalIdDetector,
  emailDetector,
  macAddressDetector,
  networkLayoutDetector,
  ipAddressDetector,
  phoneDetector,
  apiTokenDetector,
  passwordDetector,
  wifiSsidDetector,
  deviceIdDetector,
  deviceModelDetector,
  firmwareVersionDetector,
  deviceNameDetector,
  activityTimeDetector,
  activityEventTimeDetector,
  geolocationDetector,
  healthMetricDetector,
  genderDetector,
  dateOfBirthDetector,
  postalAddressDetector,
  personNameDetector,
  usernameDetector,
  userIdDetector,
];
