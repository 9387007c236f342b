import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BACKENDS_SETTING,
  backendNameOfSecretKey,
  normalizeBackendUrl,
  parseBackendsSetting,
  tokenSecretKey,
  validateBackendName,
  withBackend,
  withoutBackend,
} from '../../../src/extension/backends/backend-config';
import { renderPreviewHtml } from '../../../src/extension/backends/backend-preview-html';
import { backendNameOf } from '../../../src/extension/backends/backend-rows';
import { COMMANDS } from '../../../src/extension/commands-ids';

interface Manifest {
  contributes: {
    menus: Record<string, { command: string; when?: string; group?: string }[]>;
    viewsWelcome: { view: string; contents: string }[];
    configuration: { properties: Record<string, { default: unknown; scope?: string; markdownDescription?: string }> }[];
  };
}
const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as Manifest;

describe('backends: the huaju4k.backends setting', () => {
  it('keeps valid entries in order, normalised, and reports each bad one', () => {
    const parsed = parseBackendsSetting([
      { name: 'studio', url: 'http://127.0.0.1:8765/' },
      { name: 'gpu box', url: 'https://gpu.example:443/hub//' },
      { name: 'studio', url: 'http://127.0.0.1:9999' },
      { name: 'ws', url: 'ws://127.0.0.1:8765/video_in' },
      { name: 'bad/name', url: 'http://x' },
      { url: 'http://x' },
      'http://x',
      { name: 'q', url: 'http://x/?token=secret' },
    ]);
    assert.deepEqual(parsed.backends, [
      { name: 'studio', url: 'http://127.0.0.1:8765' },
      { name: 'gpu box', url: 'https://gpu.example/hub' },
    ]);
    assert.equal(parsed.problems.length, 6);
    assert.match(parsed.problems[0], /backends\[2\].*already exists/);
    assert.match(parsed.problems[1], /backends\[3\].*HTTP address.*http:\/\/127\.0\.0\.1:8765/);
    assert.match(parsed.problems[2], /backends\[4\].*letters, digits/);
    assert.match(parsed.problems[3], /backends\[5\] needs a "name" and a "url"/);
    assert.match(parsed.problems[5], /backends\[7\].*token prompt/);
  });

  it('treats unset as empty and a non-array as a reported mistake', () => {
    assert.deepEqual(parseBackendsSetting(undefined), { backends: [], problems: [] });
    const obj = parseBackendsSetting({ name: 'a', url: 'http://x' });
    assert.deepEqual(obj.backends, []);
    assert.match(obj.problems[0], /must be an array/);
  });

  it('validates what the Add Backend prompts receive', () => {
    assert.equal(validateBackendName('hub-1'), undefined);
    assert.match(validateBackendName('  ') ?? '', /Give the backend a name/);
    assert.match(validateBackendName('hub-1', ['hub-1']) ?? '', /already exists/);
    assert.match(validateBackendName('x'.repeat(65)) ?? '', /at most 64/);
    assert.deepEqual(normalizeBackendUrl(' http://10.0.0.5:8000 '), { url: 'http://10.0.0.5:8000' });
    for (const bad of ['', 'localhost:8765', 'ftp://x', 'http://u:p@x', 'http://x#a']) {
      assert.ok('error' in normalizeBackendUrl(bad), bad);
    }
  });

  it('edits the raw setting without losing entries it cannot parse', () => {
    const raw = [{ name: 'a', url: 'http://a' }, { oops: true }, { name: 'b', url: 'http://b' }];
    assert.deepEqual(withBackend(raw, { name: 'c', url: 'http://c' }), [...raw, { name: 'c', url: 'http://c' }]);
    assert.deepEqual(withBackend(raw, { name: 'a', url: 'http://a2' }), [
      { name: 'a', url: 'http://a2' },
      { oops: true },
      { name: 'b', url: 'http://b' },
    ]);
    assert.deepEqual(withoutBackend(raw, 'a'), [{ oops: true }, { name: 'b', url: 'http://b' }]);
    assert.deepEqual(withBackend(undefined, { name: 'c', url: 'http://c' }), [{ name: 'c', url: 'http://c' }]);
  });

  it('keys tokens by backend name in SecretStorage', () => {
    assert.equal(tokenSecretKey('studio'), 'huaju4k.backend.studio');
    assert.equal(backendNameOfSecretKey(tokenSecretKey('gpu box')), 'gpu box');
    assert.equal(backendNameOfSecretKey('other.key'), undefined);
  });

  it('finds the backend a command was invoked for (tree node, child row, name)', () => {
    assert.equal(backendNameOf('studio'), 'studio');
    assert.equal(backendNameOf({ row: { id: 'backend/studio' }, backend: { name: 'studio' } }), 'studio');
    assert.equal(backendNameOf({ row: { id: 'backend/gpu box/api/v1/ai/status' } }), 'gpu box');
    assert.equal(backendNameOf({ row: { id: 'video/x' } }), undefined);
    assert.equal(backendNameOf(undefined), undefined);
  });
});

describe('backends: manifest contributions', () => {
  const c = manifest.contributes;

  it('declares huaju4k.backends machine-scoped (a workspace cannot redirect a stored token), default []', () => {
    const key = `huaju4k.${BACKENDS_SETTING}`;
    const prop = c.configuration.find((g) => key in g.properties)?.properties[key];
    assert.ok(prop, key);
    assert.deepEqual(prop.default, []);
    assert.equal(prop.scope, 'machine');
    assert.match(prop.markdownDescription ?? '', /Add Backend/);
  });

  it('puts add/refresh on the view title and per-backend actions on backend rows only', () => {
    const title = c.menus['view/title'].filter((m) => m.when === 'view == huaju4k.backends').map((m) => m.command);
    assert.deepEqual(title.slice(0, 2), [COMMANDS.addBackend, COMMANDS.refreshBackends]);
    const items = c.menus['view/item/context'].filter((m) => m.when?.includes('view == huaju4k.backends'));
    for (const cmd of [COMMANDS.testBackend, COMMANDS.removeBackend, COMMANDS.setBackendToken]) {
      const entry = items.find((m) => m.command === cmd && !m.group?.startsWith('inline'));
      assert.match(entry?.when ?? '', /viewItem =~ \/\^backend\\\.\//, cmd);
    }
    const preview = items.find((m) => m.command === COMMANDS.showBackendPreview);
    assert.match(preview?.when ?? '', /viewItem == backend\.reachable/);
  });

  it('offers Add Backend in the empty Backends view', () => {
    const welcome = c.viewsWelcome.find((w) => w.view === 'huaju4k.backends');
    assert.ok(welcome?.contents.includes(`(command:${COMMANDS.addBackend})`));
  });
});

describe('backends: preview page', () => {
  it('runs only its nonce script and style, and shows images only from data: URLs', () => {
    const html = renderPreviewHtml({ nonce: 'abc123', title: '<b>studio</b> broadcast' });
    const csp = /Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.equal(csp, "default-src 'none'; img-src data:; style-src 'nonce-abc123'; script-src 'nonce-abc123'");
    assert.ok(!html.includes('<b>studio</b>'), 'the title is escaped');
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.deepEqual(scripts, ['<script nonce="abc123">']);
  });
});
