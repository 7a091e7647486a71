// A key family (DESIGN.md "Field paths") is a Redis key or MQTT topic with its variable parts as `*`:
// `user:1234:token` → `user:*:token`, `home/9f8e7d6c5b4a/state` → `home/*/state`. Families are the
// collections that sampling fills and counts, so one family must cover every key a program builds
// from one template, and stay short. Everything here is linear in the key's length: keys come from
// the target (hostile), so no pattern may backtrack.

// Past this the rest of a key is not read: a family is a label, and 512 MB keys exist.
const maxKeyChars = 512;

// Redis has no separator of its own; `:` is its documented convention
// (https://redis.io/docs/latest/develop/use/keyspace/), `/` and `|` are common too. `.` only counts
// when none of these occurs, because dotted parts (`john.doe@x.com`, `10.0.0.1`) are values.
const primarySeparators = /[:/|]/;

const digits = /^[+-]?\d+(?:[.,]\d+)?$/;
// RFC 9562 §4 textual form (any version).
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Hashes, object ids and hex tokens: long enough that a word (`deadbeef`) needs a digit to count.
const hex = /^(?:0x)?[0-9a-f]{8,}$/i;
const ipv4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
// Random identifiers (nanoid, base62 session ids): long, letters and digits, no separators.
const token = /^[A-Za-z0-9]{16,}$/;
// IEEE 802 MAC in its usual text forms; fixed length, so it can be replaced before splitting on `:`.
const mac = /(?<![0-9A-Za-z])[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}(?![0-9A-Za-z])/g;
// A long run of digits inside a word (`user1234`, `order_20191204`) is a number glued to a name;
// three digits are not enough (`h264`, `mp3`, `ipv6` stay).
const embeddedNumber = /\d{4,}/g;

function isEmail(part: string): boolean {
  const at = part.indexOf('@');
  return at > 0 && at === part.lastIndexOf('@') && part.indexOf('.', at + 2) > 0 && !/\s/.test(part);
}

/** True when a whole part of a key is a value rather than a name. */
function isVariable(part: string): boolean {
  if (part === '' || part === '*') return false;
  if (digits.test(part) || uuid.test(part) || ipv4.test(part) || isEmail(part)) return true;
  if (hex.test(part) && /\d/.test(part)) return true;
  return token.test(part) && /\d/.test(part) && /[A-Za-z]/.test(part);
}

/** One part between separators: variable as a whole, or a name whose `-`/`_` pieces may be values. */
function familyOfPart(part: string): string {
  if (isVariable(part)) return '*';
  return part
    .split(/([-_])/)
    .map((piece) => (piece === '-' || piece === '_' ? piece : isVariable(piece) ? '*' : piece))
    .join('')
    .replace(embeddedNumber, '*');
}

function familyOf(key: string, separators: RegExp): string {
  const head = key.length > maxKeyChars ? key.slice(0, maxKeyChars) : key;
  const cut = head.length < key.length ? '*' : '';
  // Split with a capture group keeps the separators, so the family reads like the key.
  return (
    head
      .split(separators)
      .map((part, index) => (index % 2 === 1 ? part : familyOfPart(part)))
      .join('') + cut
  );
}

/** The family of a Redis key: `session:9f8e7d6c5b4a3f21` → `session:*`. */
export function keyFamily(key: string): string {
  const masked = key.replace(mac, '*');
  return familyOf(masked, primarySeparators.test(masked) ? /([:/|])/ : /(\.)/);
}

/** The family of an MQTT topic, level by level (MQTT 3.1.1 §4.7: `/` separates levels). */
export function topicFamily(topic: string): string {
  return familyOf(topic.replace(mac, '*'), /(\/)/);
}
