/** Squash's version: recorded on every run and part of every trial id (results of another version are not reused). */
export const SQUASH_VERSION = '0.1.0';
