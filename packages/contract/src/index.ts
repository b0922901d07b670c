export {
  Metric,
  LayerField,
  layerMetricKey,
  parseLayerMetricKey,
  layerMetricRows,
  isLayerMetricKey,
  type MetricKey,
  type LayerFieldKey,
  type MetricInput,
} from './metrics.js';
export {
  RUN_STATUSES,
  RUN_RECORD_PARAMS,
  countNonzero,
  type ParamValue,
  type RunStatus,
  type RunView,
  type ActivationQuant,
  type Reference,
} from './run.js';
