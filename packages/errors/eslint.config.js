import base, { platformNeutral } from '../../eslint.base.js';

export default [...base, ...platformNeutral];
