/** Control words shared by the ring tests and their consumer worker. */
export const W_DONE = 0;
export const W_COUNT = 1;
export const W_TORN = 2;
