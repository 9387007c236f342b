import type { ProbeInfo } from '../../protocol/engine-events';

/**
 * swscale `in_color_matrix` for a source. Untagged sources follow the convention players use: HD (≥ 1280 wide or
 * > 576 high) is bt709, SD is bt601; a mismatch costs ~23 dB on saturated colours.
 */
export function sourceColorMatrix(p: Pick<ProbeInfo, 'colorMatrix' | 'width' | 'height'>): string {
  switch (p.colorMatrix) {
    case 'bt709':
      return 'bt709';
    case 'bt470bg':
    case 'smpte170m':
    case 'bt601':
      return 'bt601';
    case 'fcc':
      return 'fcc';
    case 'smpte240m':
      return 'smpte240m';
    case 'bt2020nc':
    case 'bt2020c':
      return 'bt2020';
    default:
      return p.width >= 1280 || p.height > 576 ? 'bt709' : 'bt601';
  }
}

/** swscale `in_range`: full range for `pc`/`jpeg` tags and the deprecated yuvj* formats, else limited. */
export function sourceRange(p: Pick<ProbeInfo, 'colorRange' | 'pixFmt'>): 'pc' | 'tv' {
  if (p.colorRange === 'pc' || p.colorRange === 'jpeg' || p.pixFmt.startsWith('yuvj')) return 'pc';
  return 'tv';
}
