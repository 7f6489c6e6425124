export { classifierMetadata, type OnnxClassifierMetadata, readClassifierMetadata } from './classifier-metadata.js';
export { layersToOnnx, ONNX_INPUT, ONNX_LOGITS, ONNX_PROBABILITIES, OnnxExportError } from './layers-to-onnx.js';
export {
  type FloatAttribute,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxInitializer,
  onnxMetadata,
  onnxModel,
  type OnnxModelOptions,
  type OnnxNode,
  type OnnxValue,
  type TensorAttribute,
} from './onnx-model.js';
export { OnnxOp, type OnnxOpArgs } from './onnx-op-layer.js';
export { IMPORTED_OPERATORS, type ImportedLayers, isChannelsLastInput, type OnnxImportOptions, onnxToLayers } from './onnx-to-layers.js';
export { OnnxImportError, type OnnxTensor, readOnnx, readTensor, type ReadModel, type ReadNode, type ReadValue } from './read-onnx.js';
export { readFields } from './protobuf.js';
