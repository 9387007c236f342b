export { floatToHalf, halfToFloat } from '../../src/engine/model/half';
export { BinReader, TAG_FP16, TAG_INT8 } from './bin';
export { CONVERTER_VERSION, type ConvertOptions, type ConvertResult, convertNcnnToOnnx } from './convert';
export { ConversionError } from './errors';
export { type NcnnLayer, type NcnnParam, parseParam } from './param';
