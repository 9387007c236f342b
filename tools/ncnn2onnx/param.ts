import { ConversionError } from './errors';

// ncnn .param text format: magic line, "layer_count blob_count", then one layer per line:
// `Type name n_in n_out in_blobs... out_blobs... key=value ...`.

export const NCNN_PARAM_MAGIC = '7767517';
/** Keys at or below this are arrays: id = -key - 23300, value = `count,v1,v2,...`. */
const ARRAY_KEY_BASE = -23300;

export type ParamValue = number | number[];

export interface NcnnLayer {
  type: string;
  name: string;
  inputs: string[];
  outputs: string[];
  params: Map<number, ParamValue>;
  /** 1-based line in the .param file, for error messages. */
  line: number;
}

export interface NcnnParam {
  file: string;
  layers: NcnnLayer[];
  blobCount: number;
}

const INT_RE = /^[-+]?\d+$/;
const FLOAT_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function parseNumber(text: string, file: string, line: number, what: string): number {
  // ncnn decides int vs float by the presence of '.' or an exponent; both parse as JS numbers.
  const isFloat = /[.eE]/.test(text);
  if (isFloat ? !FLOAT_RE.test(text) : !INT_RE.test(text)) {
    throw new ConversionError(file, `line ${line}: ${what} "${text}" is not a number (malformed .param)`);
  }
  return Number(text);
}

function parseParamPair(token: string, file: string, line: number): [number, ParamValue] {
  const eq = token.indexOf('=');
  if (eq <= 0) throw new ConversionError(file, `line ${line}: expected key=value, got "${token}" (malformed .param)`);
  const key = parseNumber(token.slice(0, eq), file, line, 'parameter key');
  if (!Number.isInteger(key))
    throw new ConversionError(file, `line ${line}: parameter key "${token}" is not an integer`);
  const raw = token.slice(eq + 1);
  if (key > ARRAY_KEY_BASE) return [key, parseNumber(raw, file, line, `value of key ${key}`)];
  const id = -key + ARRAY_KEY_BASE;
  const parts = raw.split(',');
  const count = parseNumber(parts[0], file, line, `array length of key ${key}`);
  const values = parts.slice(1).map((p) => parseNumber(p, file, line, `array element of key ${key}`));
  if (values.length !== count) {
    throw new ConversionError(
      file,
      `line ${line}: array key ${key} announces ${count} values but has ${values.length}`,
    );
  }
  return [id, values];
}

export function parseParam(text: string, file = '<param>'): NcnnParam {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== NCNN_PARAM_MAGIC) {
    throw new ConversionError(
      file,
      `not an ncnn .param file: first line must be the magic ${NCNN_PARAM_MAGIC}, got "${(lines[0] ?? '').slice(0, 40)}"`,
    );
  }
  const counts = (lines[1] ?? '').trim().split(/\s+/);
  if (counts.length !== 2) throw new ConversionError(file, 'line 2: expected "layer_count blob_count"');
  const layerCount = parseNumber(counts[0], file, 2, 'layer count');
  const blobCount = parseNumber(counts[1], file, 2, 'blob count');

  const layers: NcnnLayer[] = [];
  for (let i = 2; i < lines.length; i++) {
    const tokens = lines[i].trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) continue;
    const line = i + 1;
    if (tokens.length < 4) throw new ConversionError(file, `line ${line}: a layer needs "type name n_in n_out ..."`);
    const [type, name] = tokens;
    const nIn = parseNumber(tokens[2], file, line, 'input count');
    const nOut = parseNumber(tokens[3], file, line, 'output count');
    if (nIn < 0 || nOut < 0 || tokens.length < 4 + nIn + nOut) {
      throw new ConversionError(file, `line ${line}: layer ${name} lists fewer blobs than its counts ${nIn} ${nOut}`);
    }
    const inputs = tokens.slice(4, 4 + nIn);
    const outputs = tokens.slice(4 + nIn, 4 + nIn + nOut);
    const params = new Map<number, ParamValue>();
    for (const token of tokens.slice(4 + nIn + nOut)) {
      const [key, value] = parseParamPair(token, file, line);
      params.set(key, value);
    }
    layers.push({ type, name, inputs, outputs, params, line });
  }
  if (layers.length !== layerCount) {
    throw new ConversionError(file, `header announces ${layerCount} layers but the file has ${layers.length}`);
  }
  return { file, layers, blobCount };
}

export function intParam(layer: NcnnLayer, id: number, fallback: number): number {
  const v = layer.params.get(id);
  if (v === undefined) return fallback;
  if (Array.isArray(v) || !Number.isInteger(v)) {
    throw new Error(`layer ${layer.name} (line ${layer.line}): parameter ${id} must be an integer`);
  }
  return v;
}

export function floatParam(layer: NcnnLayer, id: number, fallback: number): number {
  const v = layer.params.get(id);
  if (v === undefined) return fallback;
  if (Array.isArray(v)) throw new Error(`layer ${layer.name} (line ${layer.line}): parameter ${id} must be a number`);
  return v;
}

export function arrayParam(layer: NcnnLayer, id: number): number[] {
  const v = layer.params.get(id);
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
