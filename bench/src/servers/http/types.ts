import type { ServerSetup } from './setup.ts';

/** The servers with a stack on top of the framework (bare servers take only a port). */
export type StackName = 'peer' | 'ours' | 'peer-obs' | 'ours-obs' | 'layers' | 'floor';
/** Builds one server, listens on `port` and prints "ready". */
export type StackFactory = (setup: ServerSetup, port: number) => Promise<void>;
export type StackFactories = Partial<Record<StackName, StackFactory>>;
