import { ConfigError } from '@squash/core';

/**
 * model.json parsed; a syntax error names its line and column (V8's messages give the character
 * position, when they give one).
 */
export function parseModelJson(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (e) {
    const message = (e as Error).message;
    const position = /at position (\d+)/.exec(message);
    let line: number | undefined;
    let column: number | undefined;
    if (position) {
      const before = body.slice(0, Number(position[1]));
      line = before.split('\n').length;
      column = before.length - before.lastIndexOf('\n');
    }
    const reason = message.replace(/ in JSON at position \d+.*$/, '');
    const what =
      body.trim() === '' ? 'is empty' : `is not JSON: ${reason}${line ? ` at line ${line}, column ${column}` : ''}`;
    throw new ConfigError(`model file ${what}`, {
      location: { file, line, column },
      hint: 'expected the model.json written by TensorFlow.js model.save() or tensorflowjs_converter',
    });
  }
}
