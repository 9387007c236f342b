import assert from 'node:assert/strict';
import { parseEnhanceArgs } from '../../../src/engine/args';
import {
  createTemporal,
  FLOW_FINEST_PIXELS,
  flowFinestPixels,
  temporalPixelParams,
  temporalSettings,
} from '../../../src/engine/temporal/create';
import { MOTION_VERSION } from '../../../src/engine/temporal/motion';
import { REUSE_DEFAULTS, type ReuseOptions, ReuseUpscaler } from '../../../src/engine/temporal/reuse-upscaler';
import { ReplicateUpscaler } from './frames';

describe('temporal: enhance options', () => {
  it('defaults to --temporal medium --reuse on, and parses every strength and the reuse knobs', () => {
    const d = parseEnhanceArgs(['in.mp4']);
    assert.equal(d.temporal, 'medium');
    assert.equal(d.reuse, true);
    for (const s of ['off', 'low', 'medium', 'high'] as const)
      assert.equal(parseEnhanceArgs(['in.mp4', '--temporal', s]).temporal, s);
    const a = parseEnhanceArgs(['in.mp4', '--reuse', 'off', '--reuse-threshold', '2.5', '--refresh-every', '0']);
    assert.equal(a.reuse, false);
    assert.equal(a.reuseThreshold, 2.5);
    assert.equal(a.refreshEvery, 0);
    assert.equal(d.motion, 'flow');
    assert.equal(parseEnhanceArgs(['in.mp4', '--motion', 'off']).motion, 'off');
  });

  it('rejects bad values with a usage error naming the option', () => {
    assert.throws(() => parseEnhanceArgs(['in.mp4', '--temporal', 'max']), /--temporal must be one of off, low/);
    assert.throws(() => parseEnhanceArgs(['in.mp4', '--reuse', 'yes']), /--reuse must be on or off/);
    assert.throws(() => parseEnhanceArgs(['in.mp4', '--reuse-threshold', '-1']), /--reuse-threshold/);
    assert.throws(() => parseEnhanceArgs(['in.mp4', '--refresh-every', '1.5']), /--refresh-every/);
    assert.throws(() => parseEnhanceArgs(['in.mp4', '--motion', 'on']), /--motion must be one of flow, off/);
  });

  it('builds the parts the options ask for, and pixel parameters that change with them', () => {
    const inner = new ReplicateUpscaler(2);
    const on = createTemporal(inner, temporalSettings(parseEnhanceArgs(['in.mp4', '--reuse-threshold', '3'])));
    assert.ok(on.upscaler instanceof ReuseUpscaler);
    assert.equal(on.reuse?.opts.threshold, 3);
    assert.equal(on.stages.length, 1);
    const off = createTemporal(
      inner,
      temporalSettings(parseEnhanceArgs(['in.mp4', '--temporal', 'off', '--reuse', 'off'])),
    );
    assert.equal(off.upscaler, inner);
    assert.deepEqual(off.stages, []);
    const p = (argv: string[]) =>
      JSON.stringify(temporalPixelParams(temporalSettings(parseEnhanceArgs(['in.mp4', ...argv])), 960 * 540));
    assert.notEqual(p([]), p(['--temporal', 'high']));
    assert.notEqual(p([]), p(['--refresh-every', '10']));
    assert.equal(p(['--reuse', 'off']), p(['--reuse', 'off', '--refresh-every', '10']));
    // Following motion changes pixels (a checkpoint of one is not resumed as the other); with nothing temporal
    // on, it changes nothing, and --motion off keeps the parameters of checkpoints made before motion existed.
    assert.notEqual(p([]), p(['--motion', 'off']));
    assert.equal(
      p(['--temporal', 'off', '--reuse', 'off']),
      p(['--temporal', 'off', '--reuse', 'off', '--motion', 'off']),
    );
    assert.equal(p(['--motion', 'off']).includes('Motion') || p(['--motion', 'off']).includes('Shift'), false);
    // How far a shifted tile may differ and how old it may be change pixels: both are in the parameters.
    const params = (reuseOptions: ReuseOptions) =>
      temporalPixelParams({ ...temporalSettings(parseEnhanceArgs(['in.mp4'])), reuseOptions }, 960 * 540);
    assert.equal(params({}).reuseShiftTolerance, REUSE_DEFAULTS.shiftTolerance);
    assert.notDeepEqual(params({}), params({ shiftTolerance: 1 }));
    assert.notDeepEqual(params({}), params({ shiftMaxAge: 1 }));
  });

  it('the flow’s finest level is a pixel parameter only where it applies: frames above its limit (issue 33)', () => {
    const s = temporalSettings(parseEnhanceArgs(['in.mp4']));
    assert.equal(s.flowFinestPixels, FLOW_FINEST_PIXELS);
    // Up to the limit the flows are the ones checkpoints made before it recorded: those resume.
    assert.equal(temporalPixelParams(s, 640 * 352).temporalMotion, MOTION_VERSION);
    assert.equal(temporalPixelParams(s, FLOW_FINEST_PIXELS).temporalMotion, MOTION_VERSION);
    const big = temporalPixelParams(s, 960 * 540).temporalMotion;
    assert.notEqual(big, MOTION_VERSION, 'a 960×540 checkpoint made with every level is not resumed with fewer');
    assert.match(String(big), new RegExp(`finest level ${FLOW_FINEST_PIXELS} px`));
    assert.equal(temporalPixelParams({ ...s, flowFinestPixels: 0 }, 960 * 540).temporalMotion, MOTION_VERSION);
    assert.equal(flowFinestPixels({ HUAJU4K_FLOW_FINEST_PIXELS: '0' }), 0);
    assert.equal(flowFinestPixels({ HUAJU4K_FLOW_FINEST_PIXELS: '4096' }), 4096);
    assert.throws(() => flowFinestPixels({ HUAJU4K_FLOW_FINEST_PIXELS: 'half' }), /HUAJU4K_FLOW_FINEST_PIXELS/);
  });
});
