export { createTutorialModel, TUTORIAL_HIDDEN_UNITS, type TutorialModelOptions } from './tutorial-model.js';
