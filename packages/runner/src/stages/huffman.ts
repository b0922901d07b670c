import { defineStage } from './stage.js';

/** Changes no weight: it tells the artifact writer to Huffman-code them. */
export const huffmanConfig = defineStage({
  name: 'huffman',
  description: 'Huffman-codes the quantized weights and the sparse index gaps in the artifact (Deep Compression §4).',
  params: {
    indexBits: {
      type: 'integer',
      minimum: 1,
      maximum: 16,
      description:
        'bits per relative sparse index (Deep Compression: 5 for fc, 8 for conv layers); omitted: per layer, the width (2–16) whose encoding is smallest',
    },
  },
  trains: false,
  replacesModel: false,
  transformsWeights: false,
  async apply(state, _ctx, stage) {
    state.huffman = true;
    state.indexBits = (stage.params.indexBits as number | undefined) ?? 'auto';
  },
});
