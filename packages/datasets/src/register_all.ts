/**
 * The one place builders are registered. The registry throws on a duplicate name, and a module
 * body runs once per process, so keeping registration here (not in each builder) makes it safe
 * for several entry points to import the package.
 */
import { datasetRegistry, type DatasetBuilder } from './dataset.js';
import { cifarBuilder } from './cifar.js';
import { idxBuilder } from './idx_dir.js';
import { imagesBuilder } from './image_folder.js';
import { mnistBuilder } from './mnist.js';
import { npyBuilder, npzBuilder } from './numpy_dataset.js';
import { syntheticBuilder } from './synthetic.js';

const builders: Record<string, DatasetBuilder> = {
  idx: idxBuilder,
  mnist: mnistBuilder,
  npz: npzBuilder,
  npy: npyBuilder,
  cifar: cifarBuilder,
  images: imagesBuilder,
  synthetic: syntheticBuilder,
};

// `has` keeps a re-evaluation of this module from tripping the registry's duplicate check;
// a builder registered earlier under the same name (e.g. a test stub) is left in place.
for (const [name, builder] of Object.entries(builders)) {
  if (!datasetRegistry.has(name)) datasetRegistry.register(name, builder);
}
