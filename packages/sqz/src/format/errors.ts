/**
 * Every malformed, corrupt or truncated `.sqz` input. The message names the byte offset or the
 * header field and what was expected, so a user can tell a truncated download from a wrong file.
 */
export class SqzError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SqzError';
  }
}
