/**
 * The `.sqz` file format, read side: pure (no TensorFlow.js, no Node built-ins), so it runs in a
 * browser, in Node, and inside `@squash/compressors`, whose writer is the other half and imports
 * the pieces both sides must agree on from here.
 */
export { fakeQuantizeInPlace, type Range, roundHalfAway, roundHalfAwayInt } from './fake_quantize.js';
export { SqzError } from './errors.js';
export {
  readSqz,
  preambleBytes,
  sqzChecksum,
  SQZ_MAGIC,
  SQZ_VERSION,
  SQZ_READABLE_VERSIONS,
  SQZ_CRC_OFFSET,
  type SqzFile,
  type SqzTensor,
  type SqzLayerBytes,
} from './container.js';
export { crc32 } from './crc32.js';
export { BitReader } from './bit_reader.js';
export {
  canonicalCodes,
  huffmanDecode,
  readCodeLengths,
  MAX_CODE_LENGTH,
  MAX_ALPHABET,
  LENGTH_BITS,
} from './huffman.js';
export { decodeRelativeIndices } from './relative_index.js';
export {
  deriveCodebook,
  floatsPerChannel,
  PARAMS_SCHEMES,
  QUANT_SCHEMES,
  type CodebookStorage,
  type QuantScheme,
} from './codebook.js';
export {
  decodeSection,
  channelsOf,
  channelAt,
  PART_ORDER,
  MAX_INDEX_BITS,
  type Channels,
  type EncodingKind,
  type SectionMeta,
} from './sections.js';
