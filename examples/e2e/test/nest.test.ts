import { exampleSuite } from './support/suite.ts';

await exampleSuite('nest');
