export { crc32c, maskedCrc32c } from './crc32c.js';
export { eventRecord } from './event-record.js';
export { fileVersionEvent, scalarsEvent, textEvent } from './summary-event.js';
export { type TensorBoardOptions, tensorBoardRecords, type TrainingEventLike } from './tensorboard-records.js';
