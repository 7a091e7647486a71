/** Sensitivity classes of TAXONOMY.md, most to least sensitive. */
export type Sensitivity = 'secret' | 'special' | 'personal' | 'low';

/**
 * The fixed vocabulary of TAXONOMY.md. Ids are public interface (reports, SARIF rules, the store):
 * never rename one.
 */
export const categorySensitivity = {
  email: 'personal',
  username: 'personal',
  person_name: 'personal',
  phone: 'personal',
  postal_address: 'personal',
  date_of_birth: 'special',
  national_id: 'special',
  user_id: 'low',
  password: 'secret',
  password_hash: 'secret',
  api_token: 'secret',
  oauth_token: 'secret',
  jwt: 'secret',
  private_key: 'secret',
  cloud_credential: 'secret',
  payment_card: 'secret',
  bank_account: 'special',
  wifi_ssid: 'personal',
  ip_address: 'personal',
  network_layout: 'personal',
  mac_address: 'personal',
  device_id: 'personal',
  device_model: 'low',
  firmware_version: 'low',
  device_name: 'personal',
  activity_time: 'personal',
  geolocation: 'special',
  health_metric: 'special',
  gender: 'special',
} as const satisfies Record<string, Sensitivity>;

export type Category = keyof typeof categorySensitivity;
