import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BACKENDS_SETTING } from '../../../src/extension/backends/backend-config';
import { COMMANDS, FARM_CONTEXT_KEY } from '../../../src/extension/commands-ids';
import { DEFAULT_SETTINGS, SETTING_KEYS } from '../../../src/extension/settings';
import { VIDEO_EXTENSIONS } from '../../../src/extension/videos/video-files';

interface ManifestSetting {
  default: unknown;
  markdownDescription?: string;
  enum?: string[];
  enumDescriptions?: string[];
  enumItemLabels?: string[];
  scope?: string;
}

interface Manifest {
  contributes: {
    commands: { command: string; title: string }[];
    menus: Record<string, { command: string; when?: string; group?: string }[]>;
    configuration: { title: string; order: number; properties: Record<string, ManifestSetting> }[];
    views: Record<string, { id: string }[]>;
  };
  capabilities: { untrustedWorkspaces: { supported: string | boolean; restrictedConfigurations: string[] } };
  extensionKind: string[];
}

const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as Manifest;
const settings: Record<string, ManifestSetting> = Object.assign(
  {},
  ...manifest.contributes.configuration.map((c) => c.properties),
);
const catalog = JSON.parse(readFileSync(new URL('../../../models/models.json', import.meta.url), 'utf8')) as {
  models: { id: string }[];
};

/** The settings' groups, in the order the Settings editor shows them. */
const SETTING_GROUPS = [
  'Output',
  'Model and GPU',
  'Temporal',
  'Stage recordings',
  'Checkpoints and disk',
  'Backends',
  'Farm',
  'Advanced',
];

describe('extension manifest agrees with the code', () => {
  it('contributes exactly the commands the extension registers', () => {
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(contributed, Object.values(COMMANDS).sort());
  });

  it('declares every setting with the same default and a description', () => {
    const props = settings;
    assert.deepEqual(Object.keys(props).sort(), [...SETTING_KEYS, BACKENDS_SETTING].map((k) => `huaju4k.${k}`).sort());
    for (const key of SETTING_KEYS) {
      assert.deepEqual(props[`huaju4k.${key}`].default, DEFAULT_SETTINGS[key], key);
      assert.ok((props[`huaju4k.${key}`].markdownDescription ?? '').length > 20, `${key} needs a description`);
    }
  });

  it('groups the settings as a person looks for them, each opening with its name in plain words', () => {
    const groups = manifest.contributes.configuration;
    assert.deepEqual(
      groups.map((g) => g.title),
      SETTING_GROUPS,
    );
    assert.deepEqual(
      groups.map((g) => g.order),
      groups.map((_, i) => i + 1),
    );
    const keys = groups.flatMap((g) => Object.keys(g.properties));
    assert.equal(new Set(keys).size, keys.length, 'a setting in two groups');
    for (const [key, s] of Object.entries(settings)) {
      // VS Code titles a setting from its key ("Vram Budget Gi B"): the description's bold first words name it.
      assert.match(s.markdownDescription ?? '', /^\*\*[A-Z][^*]{2,40}\*\*/, key);
      if (s.scope === 'machine') assert.match(s.markdownDescription ?? '', /User/, `${key}: say where to set it`);
    }
    for (const key of Object.keys(settings)) {
      // The title VS Code shows: camelCase split into words, acronyms kept ("diskReserveGB" → "Disk Reserve GB").
      const title = key
        .replace(/^huaju4k\./, '')
        .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
        .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
      assert.doesNotMatch(title, /(^| )[A-Za-z]( |$)/, `${key} is titled "${title}": a one-letter word`);
    }
    for (const key of ['crf', 'tile', 'diskBudgetMultiplier']) {
      assert.doesNotMatch(
        settings[`huaju4k.${key}`].markdownDescription ?? '',
        /^[^.]*(rate factor|input pixels)/,
        key,
      );
    }
  });

  it('offers the committed models in a dropdown, each with what it is for; a custom .onnx has its own setting', () => {
    const model = settings['huaju4k.model'];
    // Every committed model, the default first.
    assert.deepEqual([...(model.enum ?? [])].sort(), catalog.models.map((m) => m.id).sort());
    assert.equal(model.enum?.[0], model.default);
    assert.equal(model.enumDescriptions?.length, model.enum?.length);
    assert.equal(model.enumItemLabels?.length, model.enum?.length);
    assert.match(settings['huaju4k.modelPath'].markdownDescription ?? '', /\.onnx/);
    assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('huaju4k.modelPath'));
  });

  it('shows Enhance in the explorer for exactly the video extensions (not TypeScript .ts)', () => {
    const entry = manifest.contributes.menus['explorer/context'].find((m) => m.command === COMMANDS.enhance);
    const when = entry?.when ?? '';
    const match = /resourceExtname =~ \/(.+)\/i/.exec(when);
    assert.ok(match, when);
    const re = new RegExp(match[1], 'i');
    // `.ts` is left out of the menu: in most workspaces it is TypeScript. Transport streams named .ts are offered in
    // the Videos view and the palette's picker, which look at the file's first bytes.
    for (const ext of VIDEO_EXTENSIONS.filter((e) => e !== 'ts')) assert.ok(re.test(`.${ext}`), ext);
    for (const ext of ['.txt', '.png', '.mp3', '.mp4.json', '.tsx', '.ts']) assert.ok(!re.test(ext), ext);
  });

  it('every menu entry refers to a contributed command', () => {
    const known = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
      for (const e of entries) assert.ok(known.has(e.command), `${menu}: ${e.command}`);
    }
  });

  it('offers a folder batch on folders only, and the queue actions on queued jobs only', () => {
    const folder = manifest.contributes.menus['explorer/context'].find((e) => e.command === 'huaju4k.enhanceFolder');
    assert.equal(folder?.when, 'explorerResourceIsFolder');
    const onJobs = manifest.contributes.menus['view/item/context'].filter((e) => e.when?.includes('huaju4k.jobs'));
    for (const cmd of ['huaju4k.moveUp', 'huaju4k.moveDown', 'huaju4k.moveToTop', 'huaju4k.removeFromQueue']) {
      const whens = onJobs.filter((e) => e.command === cmd).map((e) => e.when);
      assert.ok(whens.length > 0, cmd);
      for (const w of whens) assert.match(w ?? '', /viewItem == job\.queued$/, cmd);
    }
  });

  it('runs where the files are and limits itself in untrusted workspaces', () => {
    assert.deepEqual(manifest.extensionKind, ['workspace']);
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual(
      manifest.contributes.views.huaju4k.map((v) => v.id),
      ['huaju4k.videos', 'huaju4k.jobs', 'huaju4k.backends'],
    );
  });

  it('every Jobs view row has a context menu (right-click), not only inline buttons: a running row too', () => {
    const matches = (when: string | undefined, item: string) => {
      if (!when?.includes('view == huaju4k.jobs')) return false;
      const eq = /viewItem == ([\w.]+)/.exec(when);
      if (eq) return eq[1] === item;
      const re = /viewItem =~ \/(.+?)\/(?:\s|$)/.exec(when);
      return re ? new RegExp(re[1]).test(item) : false;
    };
    const menu = manifest.contributes.menus['view/item/context'];
    for (const phase of ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted']) {
      const entries = menu.filter((m) => matches(m.when, `job.${phase}`) && !m.group?.startsWith('inline'));
      assert.ok(entries.length > 0, `job.${phase} has no context menu entry`);
    }
  });
});

describe('extension manifest: the farm', () => {
  it('offers Enhance on Farm beside Enhance to 4K, only while a farm URL is set; the URL only from User settings', () => {
    const explorer = manifest.contributes.menus['explorer/context'];
    const farm = explorer.find((m) => m.command === COMMANDS.enhanceOnFarm);
    const enhance = explorer.find((m) => m.command === COMMANDS.enhance);
    assert.ok(farm && enhance);
    assert.equal(farm.group?.split('@')[0], enhance.group?.split('@')[0], 'the same menu group');
    assert.equal(farm.when, `${FARM_CONTEXT_KEY} && ${enhance.when}`);
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
      for (const e of entries.filter((x) => x.command === COMMANDS.enhanceOnFarm)) {
        assert.ok(e.when?.startsWith(`${FARM_CONTEXT_KEY} && `) || e.when === FARM_CONTEXT_KEY, menu);
      }
    }
    // A workspace must not send your jobs, and your password, to its own Redis.
    assert.equal(settings['huaju4k.farm.url'].scope, 'machine');
    assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('huaju4k.farm.url'));
  });
});
