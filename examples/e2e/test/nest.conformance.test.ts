import { conformanceSuite } from './support/suite.ts';

await conformanceSuite('nest');
