export * from './user-service';
