export { BadRunName, runFolder } from './run-path.js';
export { listRuns, readRun, RUN_PICTURES, type RunDetails, type RunInfo } from './runs.js';
export { type Dashboard, DEFAULT_DASHBOARD_PORT, type DashboardOptions, type LiveEvent, startDashboard } from './server.js';
