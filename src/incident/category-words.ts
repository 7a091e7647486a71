import { categorySensitivity, type Category } from '../core/category.js';

/**
 * Every category in the words a notice to individuals uses (GDPR Art. 34(2) and 45 CFR §164.404(c)(2)
 * ask for plain language): nouns that complete "the information involved was your …". A new
 * category fails the build here until someone decides how to say it to a person.
 */
export const categoryWords = {
  email: 'email address',
  username: 'username (login name)',
  person_name: 'name',
  phone: 'phone number',
  postal_address: 'postal address',
  date_of_birth: 'date of birth',
  national_id: "Social Security number, driver's license or other government ID number",
  user_id: 'customer account number',
  password: 'password (including WiFi passwords)',
  password_hash: 'password in scrambled (hashed) form',
  api_token: 'API and access tokens (which let an app act on your account)',
  oauth_token: 'authorization tokens for linked accounts (for example Amazon Alexa or Google)',
  jwt: 'login session tokens',
  private_key: 'private encryption keys',
  cloud_credential: 'access keys for cloud services',
  payment_card: 'payment card number',
  bank_account: 'bank account number (IBAN)',
  wifi_ssid: 'name of your WiFi network',
  ip_address: 'IP address',
  network_layout: 'layout of your home network (addresses of your router and devices)',
  mac_address: 'hardware (MAC) addresses of your devices',
  device_id: 'serial numbers of your devices',
  device_model: 'model of your device',
  firmware_version: 'software version of your device',
  device_name: 'names you gave your devices (such as "Baby Room")',
  activity_time: 'times you signed in or your devices were online',
  geolocation: 'precise location',
  health_metric: 'body measurements (weight, body fat, BMI, muscle and bone mass, heart rate, ...)',
  gender: 'gender',
} as const satisfies Record<Category, string>;

const sensitivityRank = { secret: 0, special: 1, personal: 2, low: 3 } as const;
const taxonomyOrder = Object.keys(categorySensitivity);

/** Most sensitive first, then in TAXONOMY.md order, without repeats: the order a person should read them in. */
export function orderCategories(categories: readonly Category[]): Category[] {
  return [...new Set(categories)].sort(
    (a, b) =>
      sensitivityRank[categorySensitivity[a]] - sensitivityRank[categorySensitivity[b]] ||
      taxonomyOrder.indexOf(a) - taxonomyOrder.indexOf(b),
  );
}

/** `email address, name of your WiFi network and body measurements (…)`. */
export function listCategoryWords(categories: readonly Category[]): string {
  const words = orderCategories(categories).map((category) => categoryWords[category]);
  if (words.length <= 1) return words[0] ?? '';
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1] ?? ''}`;
}
