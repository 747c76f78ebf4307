export { startSimulator, errorBody, type Simulator, type SimulatorOptions } from './server.ts';
export { FAULT_KINDS, type ChargeFault, type FaultConfig, type FaultKind } from './faults.ts';
export type { SimulatorStats } from './request-stats.ts';
export type { NotifyReport } from './notify-sender.ts';
export { syntheticCharges } from './synthetic.ts';
export { inferFamily, FAMILY_HINT } from './charge-store.ts';
