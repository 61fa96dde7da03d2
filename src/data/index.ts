/** Data: writing CAPTCHA dataset folders, streaming fresh batches, decoding image files. */
export {
  writeDataset,
  DEFAULT_WRITE_DATASET_OPTIONS,
  MANIFEST_FILE,
  MAX_DATASET_IMAGES,
  type WriteDatasetOptions,
  type WriteDatasetResult,
  type DatasetManifest,
} from './dataset-writer';
export {
  createCaptchaStream,
  checkCaptchaMix,
  mixVariant,
  drawMixVariant,
  DEFAULT_CAPTCHA_STREAM_OPTIONS,
  type CaptchaMix,
  type CaptchaStream,
  type CaptchaStreamOptions,
  type CaptchaBatch,
} from './captcha-stream';
export { GENERATOR_VERSION } from './generation';
export {
  decodeImageFile,
  decodeImageBytes,
  checkImageBytes,
  checkImageFile,
  rgbaToRgb,
  MAX_IMAGE_PIXELS,
  MAX_UPSCALE,
  type DecodeImageOptions,
  type RgbImage,
} from './image-file';
export { readImageHeader, type ImageHeader } from './image-format';
export { FolderDataset, type FolderDatasetOptions, type LabeledBatch } from './loader';
export { encodeLabels, decodeLabels, readLabels, LABELS_FILE } from './labels';
export { splitIndices, shuffledIndices, type Split } from './split';
export { INPUT_FITS, isInputFit, letterboxBox, pixelsToTensor, splitPackedImages, type InputFit, type InputShape } from './tensors';
export { listLabeledFiles, expandImagePaths, type LabeledFile } from './labeled-files';
