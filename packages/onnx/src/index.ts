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
} from './onnx-model.js';
