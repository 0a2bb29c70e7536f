export { type AssignmentStrategy, assignmentStrategies } from '../db/schema/routing';
export * from './assignment-settings';
export * from './auto-assign';
