/**
 * The `.sqz` file format, read side: pure (no TensorFlow.js, no Node built-ins), so it runs in a
 * browser, in Node, and inside `@squash/compressors`, whose writer is the other half.
 */
export { fakeQuantizeInPlace, type Range, roundHalfAway, roundHalfAwayInt } from './fake_quantize.js';
