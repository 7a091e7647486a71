/**
 * A PROTOCOL-FAITHFUL FAKE S3-compatible server (MinIO flavour), not the real thing: neither MinIO
 * nor any S3 implementation can be installed on this machine, so the connector is tested against
 * this small node:http server that answers anonymous path-style GETs as the Amazon S3 API
 * reference describes them, with MinIO's `Server: MinIO` header.
 *
 * References (https://docs.aws.amazon.com/AmazonS3/latest/API/):
 * - ListBuckets     API_ListBuckets.html: <ListAllMyBucketsResult><Owner/><Buckets><Bucket><Name>,
 *                   <CreationDate>; anonymous callers get 403 AccessDenied
 * - ListObjectsV2   API_ListObjectsV2.html: GET /bucket?list-type=2, max-keys (≤ 1000; a server may
 *                   answer fewer), continuation-token; <ListBucketResult> with Name, KeyCount,
 *                   MaxKeys, IsTruncated, NextContinuationToken, Contents(Key, LastModified, ETag,
 *                   Size, StorageClass); keys XML-escaped
 * - GetObject       API_GetObject.html with Range (RFC 9110 §14): 206 and Content-Range
 * - errors          ErrorResponses.html: <Error><Code>AccessDenied|NoSuchBucket|NoSuchKey</Code>
 *                   <Message/><Resource/><RequestId/><HostId/></Error>; 405 MethodNotAllowed
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeS3Options {
  /** Bucket → key → object body. `public` buckets allow anonymous ListObjects and GetObject. */
  buckets: Record<string, { objects: Record<string, string>; public?: boolean }>;
  /** Anonymous ListBuckets allowed (a misconfigured MinIO); S3 itself never allows it. */
  publicListBuckets?: boolean;
  /** Keys per ListObjectsV2 page at most (S3: 1000). */
  pageSize?: number;
}

export interface FakeS3 {
  port: number;
  requests: { method: string; url: string; range?: string }[];
  stop(): Promise<void>;
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const xmlHead = '<?xml version="1.0" encoding="UTF-8"?>\n';
const ns = 'http://s3.amazonaws.com/doc/2006-03-01/';

export async function startFakeS3(options: FakeS3Options): Promise<FakeS3> {
  const requests: FakeS3['requests'] = [];
  const pageSize = options.pageSize ?? 1000;

  const send = (
    res: ServerResponse,
    status: number,
    body: string,
    extra: Record<string, string> = {},
  ): void => {
    res.writeHead(status, {
      server: 'MinIO',
      'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
      'x-content-type-options': 'nosniff',
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      ...extra,
    });
    res.end(body);
  };
  const error = (
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    resource: string,
  ): void => {
    send(
      res,
      status,
      `${xmlHead}<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><Resource>${escapeXml(resource)}</Resource>` +
        `<RequestId>17A0B2C3D4E5F6A7</RequestId><HostId>dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8</HostId></Error>`,
    );
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const range = req.headers.range;
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      ...(range === undefined ? {} : { range }),
    });
    const url = new URL(req.url ?? '/', 'http://s3');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      error(
        res,
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        url.pathname,
      );
      return;
    }
    const [bucketName = '', ...keyParts] = url.pathname.slice(1).split('/').map(decodeURIComponent);
    if (bucketName === '') {
      if (options.publicListBuckets !== true) {
        error(res, 403, 'AccessDenied', 'Access Denied.', '/');
        return;
      }
      const buckets = Object.keys(options.buckets)
        .sort()
        .map(
          (name) =>
            `<Bucket><Name>${escapeXml(name)}</Name><CreationDate>2024-03-01T10:00:00.000Z</CreationDate></Bucket>`,
        )
        .join('');
      send(
        res,
        200,
        `${xmlHead}<ListAllMyBucketsResult xmlns="${ns}"><Owner><ID>02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4</ID>` +
          `<DisplayName>minio</DisplayName></Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
      );
      return;
    }
    const bucket = options.buckets[bucketName];
    if (bucket === undefined) {
      error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', `/${bucketName}`);
      return;
    }
    if (bucket.public !== true) {
      error(res, 403, 'AccessDenied', 'Access Denied.', url.pathname);
      return;
    }
    const keys = Object.keys(bucket.objects).sort();
    if (keyParts.length === 0) {
      if (url.searchParams.get('list-type') !== '2') {
        error(res, 501, 'NotImplemented', 'Only ListObjectsV2 in this fake', url.pathname);
        return;
      }
      const maxKeys = Math.min(pageSize, Number(url.searchParams.get('max-keys') ?? '1000'));
      const token = url.searchParams.get('continuation-token');
      // Continuation tokens are opaque; this one is the base64 of the next key.
      const startKey = token === null ? undefined : Buffer.from(token, 'base64').toString('utf8');
      const from = startKey === undefined ? 0 : keys.indexOf(startKey);
      if (from < 0) {
        error(res, 400, 'InvalidArgument', 'The continuation token provided is incorrect', url.pathname);
        return;
      }
      const page = keys.slice(from, from + maxKeys);
      const next = keys[from + maxKeys];
      const contents = page
        .map((key) => {
          const body = bucket.objects[key] ?? '';
          const etag = createHash('md5').update(body).digest('hex');
          return (
            `<Contents><Key>${escapeXml(key)}</Key><LastModified>2024-03-01T10:00:00.000Z</LastModified>` +
            `<ETag>&quot;${etag}&quot;</ETag><Size>${Buffer.byteLength(body)}</Size>` +
            `<Owner><ID></ID><DisplayName></DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>`
          );
        })
        .join('');
      send(
        res,
        200,
        `${xmlHead}<ListBucketResult xmlns="${ns}"><Name>${escapeXml(bucketName)}</Name><Prefix></Prefix>` +
          `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><Delimiter></Delimiter>` +
          `<IsTruncated>${next === undefined ? 'false' : 'true'}</IsTruncated>` +
          (token === null ? '' : `<ContinuationToken>${escapeXml(token)}</ContinuationToken>`) +
          (next === undefined
            ? ''
            : `<NextContinuationToken>${escapeXml(Buffer.from(next).toString('base64'))}</NextContinuationToken>`) +
          `${contents}</ListBucketResult>`,
      );
      return;
    }
    const key = keyParts.join('/');
    const object = bucket.objects[key];
    if (object === undefined) {
      error(res, 404, 'NoSuchKey', 'The specified key does not exist.', url.pathname);
      return;
    }
    const bytes = Buffer.from(object);
    const match = range === undefined ? null : /^bytes=(\d+)-(\d+)$/.exec(range);
    if (match) {
      const start = Number(match[1]);
      const end = Math.min(Number(match[2]), bytes.length - 1);
      const part = bytes.subarray(start, end + 1);
      res.writeHead(206, {
        server: 'MinIO',
        'accept-ranges': 'bytes',
        'content-range': `bytes ${start}-${end}/${bytes.length}`,
        'content-length': part.length,
        'content-type': 'application/octet-stream',
      });
      res.end(part);
      return;
    }
    res.writeHead(200, {
      server: 'MinIO',
      'content-length': bytes.length,
      'content-type': 'application/octet-stream',
    });
    res.end(bytes);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return {
    port: address.port,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
