import { describe, expect, it } from 'vitest';
import {
  decodeEntities,
  isDataFileName,
  parseListing,
  parseSize,
  serverInfo,
  type ListingEntry,
} from './http.js';

function parse(
  body: string,
  base = 'http://127.0.0.1/',
): { flavor: string | undefined; entries: ListingEntry[] } {
  const entries: ListingEntry[] = [];
  const flavor = parseListing(body, new URL(base), (e) => entries.push(e));
  return { flavor, entries };
}

describe('http listing parsing', () => {
  it('parses sizes in bytes and rounded units', () => {
    expect(parseSize('123456')).toEqual({ bytes: 123456, approximate: false });
    expect(parseSize('1.2K')).toEqual({ bytes: 1229, approximate: true });
    expect(parseSize('3M')).toEqual({ bytes: 3 * 1024 * 1024, approximate: true });
    expect(parseSize('-')).toBeUndefined();
    expect(parseSize('21-Nov-2026')).toBeUndefined();
    expect(parseSize('10:00')).toBeUndefined();
  });

  it('decodes character references', () => {
    expect(decodeEntities('a&amp;b &lt;x&gt; &#39;q&#x27; &#27;')).toBe("a&b <x> 'q' \x1b");
    expect(decodeEntities('&bogus; &#99999999;')).toBe('&bogus; &#99999999;');
  });

  it('reads the Server header', () => {
    expect(serverInfo({ server: 'nginx/1.22.1' })).toEqual({ product: 'nginx', version: '1.22.1' });
    expect(serverInfo({ server: 'Microsoft-IIS/10.0' })).toEqual({
      product: 'microsoft-iis',
      version: '10.0',
    });
    expect(serverInfo({ server: 'lighttpd' })).toEqual({ product: 'lighttpd' });
    expect(serverInfo({})).toEqual({ product: 'http' });
  });

  it('knows data files by name', () => {
    expect(
      ['a.sql.gz', 'b.JSON', '.env', '.env.production', 'id_rsa', 'x.sqlite'].every(isDataFileName),
    ).toBe(true);
    expect(['index.html', 'notes.txt', 'logo.png'].some(isDataFileName)).toBe(false);
  });

  it("parses an IIS listing (size before the link, absolute hrefs, '<dir>')", () => {
    const body =
      '<html><head><title>127.0.0.1 - /files/</title></head><body><H1>127.0.0.1 - /files/</H1><hr>\r\n\r\n' +
      '<pre><A HREF="/">[To Parent Directory]</A><br><br> 11/21/2026 10:00 AM        123456 ' +
      '<A HREF="/files/backup.bak">backup.bak</A><br> 11/21/2026 10:00 AM        &lt;dir&gt; ' +
      '<A HREF="/files/old/">old</A><br></pre><hr></body></html>';
    const { flavor, entries } = parse(body, 'http://127.0.0.1/files/');
    expect(flavor).toBe('iis');
    expect(entries.map(({ name, directory, bytes }) => ({ name, directory, bytes }))).toEqual([
      { name: 'backup.bak', directory: false, bytes: 123456 },
      { name: 'old', directory: true, bytes: undefined },
    ]);
  });

  it('recognises an IIS root listing without a parent link', () => {
    const body =
      '<html><head><title>h - /</title></head><body><H1>h - /</H1><hr>\r\n\r\n<pre>' +
      ' 11/21/2026 10:00 AM         2048 <A HREF="/db.json">db.json</A><br></pre><hr></body></html>';
    expect(parse(body).entries.map((e) => [e.name, e.bytes])).toEqual([['db.json', 2048]]);
  });

  it('parses a lighttpd mod_dirlisting table', () => {
    const body = `<!DOCTYPE html>
<html><head><title>Index of /</title></head><body><h2>Index of /</h2>
<div class="list"><table summary="Directory Listing" cellpadding="0" cellspacing="0">
<thead><tr><th class="n">Name</th><th class="m">Last Modified</th><th class="s">Size</th><th class="t">Type</th></tr></thead>
<tbody>
<tr class="d"><td class="n"><a href="../">Parent Directory</a>/</td><td class="m">&nbsp;</td><td class="s">- &nbsp;</td><td class="t">Directory</td></tr>
<tr class="d"><td class="n"><a href="data/">data</a>/</td><td class="m">2026-Nov-21 10:00:00</td><td class="s">- &nbsp;</td><td class="t">Directory</td></tr>
<tr><td class="n"><a href="users.jsonl">users.jsonl</a></td><td class="m">2026-Nov-21 10:00:00</td><td class="s">1.5K</td><td class="t">application/octet-stream</td></tr>
</tbody></table></div><div class="foot">lighttpd/1.4.69</div></body></html>`;
    const { flavor, entries } = parse(body);
    expect(flavor).toBe('lighttpd');
    expect(entries.map(({ name, bytes, approximate }) => ({ name, bytes, approximate }))).toEqual([
      { name: 'data', bytes: undefined, approximate: undefined },
      { name: 'users.jsonl', bytes: 1536, approximate: true },
    ]);
  });

  it('does not treat an ordinary page as a listing', () => {
    expect(parse('<html><title>Shop</title><a href="/cart">cart</a></html>').flavor).toBeUndefined();
    expect(parse('[{"id":1,"email":"a@example.com"}]').flavor).toBeUndefined();
  });

  it('scans hostile pages in linear time', () => {
    const started = performance.now();
    parse(`<title>Index of /</title><pre>${'<a '.repeat(1_000_000)}`);
    parse(`<title>Index of /</title><pre>${'<a href="x.csv">'.repeat(200_000)}`);
    parse(`[{"name":"a","type":"file"${'{'.repeat(1_000_000)}`);
    parse(`<title>Index of /</title><pre>${`<a href="x.csv"></a>${'<'.repeat(1000)}\n`.repeat(8000)}`);
    // Linear work takes about a second on a busy CI core; quadratic work would take minutes.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
