export { BinReader, TAG_FP16, TAG_INT8 } from './bin';
export { CONVERTER_VERSION, type ConvertOptions, type ConvertResult, convertNcnnToOnnx } from './convert';
export { ConversionError } from './errors';
export { floatToHalf, halfToFloat } from './half';
export { type NcnnLayer, type NcnnParam, parseParam } from './param';
