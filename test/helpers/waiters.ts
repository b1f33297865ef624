export { Waiters } from '../../src/testing/waiters.js';
