// Type-checked with tsc against the installed tarballs: every public entry point resolves with types.
import { selectBackend } from '@rxvision/backend/node';
import { ImageDataset, randomSplit } from '@rxvision/dataset';
import { openImageDataset, prepareCifar10 } from '@rxvision/dataset/node';
import { accuracy, type PredictionBatch } from '@rxvision/metrics';
import { createTutorialModel } from '@rxvision/model';
import { fileSystemSaver } from '@rxvision/model/node';
import { lossChart } from '@rxvision/plot';
import { renderPng } from '@rxvision/plot/node';
import { epochBatches, type TensorBatch } from '@rxvision/stream';
import { fit, type TrainingEvent } from '@rxvision/train';
import { createProgram } from '@rxvision/cli';
import type { Observable } from 'rxjs';

export const used = [
  selectBackend,
  ImageDataset,
  randomSplit,
  openImageDataset,
  prepareCifar10,
  accuracy,
  createTutorialModel,
  fileSystemSaver,
  lossChart,
  renderPng,
  epochBatches,
  fit,
  createProgram,
];
export type Used = [PredictionBatch, TensorBatch, Observable<TrainingEvent>];
