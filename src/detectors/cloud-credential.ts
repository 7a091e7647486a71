import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';
import { shannonEntropy } from './shannon-entropy.js';

// AWS access key ids: `AKIA` (long-term) or `ASIA` (STS temporary) + 16 characters of base32
// (AWS IAM User Guide, "Unique identifiers" → "Understanding unique ID prefixes").
const awsAccessKeyId = /^(?:AKIA|ASIA)[A-Z2-7]{16}$/;
// AWS secret access keys: 40 characters of base64 (AWS IAM User Guide, "Managing access keys");
// only with field words, as any 40-character base64 string has this shape.
const awsSecret = /^[A-Za-z0-9/+]{40}$/;
// GitHub personal access tokens: classic `ghp_` + 36 base62, fine-grained `github_pat_` + 82;
// `ghs_` server-to-server installation tokens (GitHub docs "About authentication to GitHub").
const githubPat = /^(?:gh[ps]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{82,251})$/;
// Slack tokens: `xoxb-` bot, `xoxp-` user, `xoxa-`/`xoxr-` app/refresh, `xoxs-` workspace
// (Slack API docs, "Token types").
const slackToken = /^xox[abprs]-[A-Za-z0-9-]{10,250}$/;
// Stripe secret and restricted keys: `sk_live_`, `rk_live_` (and `_test_`) + base62 (Stripe docs,
// "API keys"). Publishable `pk_` keys are public by design.
const stripeKey = /^[sr]k_(live|test)_[A-Za-z0-9]{16,247}$/;
// Google API keys: `AIza` + 35 characters (Google Cloud docs, "Manage API keys").
const googleApiKey = /^AIza[A-Za-z0-9_-]{35}$/;
// GCP service-account key files are JSON with `"type": "service_account"` and a `private_key`
// (Google Cloud IAM docs, "Create and delete service account keys"). Checked on a short slice.
const gcpType = /"type"\s{0,8}:\s{0,8}"service_account"/;
// Azure Storage account keys: 64 random bytes in base64, 88 characters ending `==`; connection
// strings carry them as `AccountKey=` (Microsoft Learn, "Configure Azure Storage connection strings").
const azureKey = /^[A-Za-z0-9+/]{86}==$/;
const azureConnection = /AccountKey=[A-Za-z0-9+/]{86}==/;

const awsWords = new FieldWordSet(['aws', 'amazon', 's3']);
const secretWords = new FieldWordSet(['secret', 'key', 'secretkey', 'secretaccesskey']);
const azureWords = new FieldWordSet(['azure', 'storage', 'accountkey', 'account', 'blob']);
const keyWords = new FieldWordSet(['key', 'accountkey', 'secret', 'credential', 'credentials']);

/** Largest value searched for a service-account JSON or a connection string. */
const maxDocument = 64 * 1024;

function matchCloudCredential(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string') return 0;
  const n = value.length;
  if (n < 20) return 0;
  if (n <= 300) {
    switch (value.charCodeAt(0)) {
      case 65 /* A */:
        if (n === 20 && awsAccessKeyId.test(value)) return 0.98;
        if (n === 39 && googleApiKey.test(value)) return 0.95;
        break;
      case 103 /* g */:
        if (githubPat.test(value)) return 0.98;
        break;
      case 120 /* x */:
        if (slackToken.test(value)) return 0.97;
        break;
      case 115 /* s */:
      case 114 /* r */:
        if (stripeKey.test(value)) return value.charCodeAt(3) === 108 /* live */ ? 0.98 : 0.8;
        break;
      default:
        break;
    }
    if (n === 40 && awsWords.inPath(field) && secretWords.inKey(field) && awsSecret.test(value)) {
      return shannonEntropy(value) > 4 ? 0.9 : 0;
    }
    if (n === 88 && azureWords.inPath(field) && keyWords.inKey(field) && azureKey.test(value)) {
      return shannonEntropy(value) > 4.5 ? 0.9 : 0;
    }
  }
  if (n < 120 || n > maxDocument) return 0;
  if (value.includes('service_account') && value.includes('"private_key"') && gcpType.test(value))
    return 0.99;
  if (value.includes('AccountKey=') && azureConnection.test(value)) return 0.95;
  return 0;
}

const gcpJson = JSON.stringify({
  type: 'service_account',
  project_id: 'demo',
  private_key_id: 'abc',
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n',
  client_email: 'svc@demo.iam.gserviceaccount.com',
  client_id: '1234567890',
  auth_uri: 'https://accounts.google.com/o/oauth2/auth',
  token_uri: 'https://oauth2.googleapis.com/token',
});
const azure88 = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export const cloudCredentialDetector = {
  id: 'cloud-credential',
  category: 'cloud_credential',
  fieldWords: ['aws', 'secret', 'key', 'azure', 'gcp', 'credential', 'stripe', 'slack', 'github'],
  match: matchCloudCredential,
  examples: {
    match: [
      { path: 'aws.access_key_id', value: 'AKIAIOSFODNN7EXAMPLE' },
      { path: 'aws.secret_access_key', value: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      { path: 'token', value: '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' },
      { path: 'slack', value: 'xoxb-2345678901-2345678901234-AbCdEfGhIjKlMnOpQrStUvWx' },
      { path: 'stripe_key', value: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc' },
      { path: 'gcp', value: gcpJson },
      { path: 'azure.storage.account_key', value: azure88 },
      {
        path: 'conn',
        value: `DefaultEndpointsProtocol=https;AccountName=demo;AccountKey=${azure88};EndpointSuffix=core.windows.net`,
      },
      { path: 'maps', value: 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY' },
    ],
    noMatch: [
      { path: 'aws.region', value: 'us-east-1a-b-c-d-e-f-g' },
      { path: 'id', value: 'AKIA-not-a-key-at-all' },
      { path: 'stripe', value: 'pk_live_4eC39HqLyjWDarjtT1zdp7dc' },
      { path: 'blob', value: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      { path: 'doc', value: '{"type": "user", "private_key": false}' + ' '.repeat(300) },
      { path: 'azure.storage.account_key', value: 'A'.repeat(86) + '==' },
    ],
  },
} as const satisfies Detector;
