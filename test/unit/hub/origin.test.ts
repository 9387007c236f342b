/**
 * Browser-borne attacks on a hub without a token: a web page opening a WebSocket to 127.0.0.1 (cross-site
 * WebSocket: the browser sends that page's Origin) and DNS rebinding (the browser sends the attacker's host name in
 * Host). Real HTTP requests and upgrades with the headers a browser would send.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { closeHubs, closeWs, connect, refusedUpgrade, startHub } from './helpers';

function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('hub: Origin and Host checks (cross-site WebSocket, DNS rebinding)', () => {
  afterEach(closeHubs);

  it('refuses a WebSocket opened by a page from another site, and its API reads', async () => {
    const { ws, port } = await startHub();
    for (const path of ['/video_out', '/video_in', '/video_codec?codec=h264']) {
      const r = await refusedUpgrade(ws(path), { Origin: 'https://evil.example' });
      assert.equal(r.status, 403, path);
      assert.match(r.body, /allowed_origins/);
    }
    assert.equal((await refusedUpgrade(ws('/video_out'), { Origin: 'null' })).status, 403, 'sandboxed or file page');
    const api = await get(port, '/api/v1/stream/status', { origin: 'https://evil.example' });
    assert.equal(api.status, 403);
  });

  it('refuses a request whose Host is a name it does not serve (DNS rebinding)', async () => {
    const { ws, port } = await startHub();
    const api = await get(port, '/api/v1/stream/status', { host: `evil.example:${port}` });
    assert.equal(api.status, 403);
    assert.match(api.body, /allowed_hosts/);
    const up = await refusedUpgrade(ws('/video_out'), { Host: `evil.example:${port}` });
    assert.equal(up.status, 403);
  });

  it('lets in clients without Origin, loopback pages, IP literals and what the config allows', async () => {
    const { ws, port } = await startHub({ allowed_origins: 'https://studio.example', allowed_hosts: ['hub.lan'] });
    const ok: Record<string, string>[] = [
      {},
      { Origin: 'http://localhost:5173' },
      { Origin: 'http://127.0.0.1:8080' },
      { Origin: 'https://studio.example' },
      { Origin: `http://127.0.0.1:${port}` },
    ];
    for (const headers of ok) {
      const c = await connect(ws('/video_out'), headers);
      await closeWs(c.ws);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `hub.lan:${port}`, '10.1.2.3']) {
      assert.equal((await get(port, '/api/v1/stream/status', { host })).status, 200, host);
    }
    assert.equal((await get(port, '/healthz', { host: 'studio.example' })).status, 403);
  });
});
