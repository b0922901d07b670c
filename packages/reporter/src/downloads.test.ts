import { describe, expect, it } from 'vitest';
import { runView } from './__tests__/run_view.js';
import { downloadSizes, downloadTable, renderCsv, renderHtml, renderTerminal } from './index.js';

const sizes = {
  tfjs_bytes: 102_400,
  tfjs_uint8_bytes: 26_624,
  tfjs_gzip_bytes: 94_208,
  tfjs_uint8_gzip_bytes: 20_480,
  artifact_bytes: 10_240,
};
const runs = [
  runView({ id: 'base', sweep: 'baseline', label: 'baseline', isBaseline: true, metrics: { artifact_bytes: 400_000 } }),
  runView({ id: 'q8', sweep: 'bits', label: 'quantize-weights(bits=8)', metrics: { accuracy: 0.97, ...sizes } }),
  // Recorded before download sizes were: only the .sqz.
  runView({ id: 'old', sweep: 'bits', label: 'quantize-weights(bits=4)', metrics: { artifact_bytes: 6_144 } }),
];

describe('download sizes', () => {
  it("are a trial's tfjs sizes, its .sqz, and the .sqz plus the decoder bundle", () => {
    expect(downloadSizes(runs[1]!, 9_000)).toEqual({ ...sizes, sqz_with_decoder_bytes: 19_240 });
    expect(downloadSizes(runs[1]!, undefined).sqz_with_decoder_bytes).toBeUndefined();
    expect(downloadSizes(runs[2]!, 9_000)).toEqual({
      tfjs_bytes: undefined,
      tfjs_uint8_bytes: undefined,
      tfjs_gzip_bytes: undefined,
      tfjs_uint8_gzip_bytes: undefined,
      artifact_bytes: 6_144,
      sqz_with_decoder_bytes: 15_144,
    });
  });

  it('table: trials only, KB on a terminal with — where nothing was recorded, bytes in csv', () => {
    const t = downloadTable(runs, 9_000)!;
    expect(t.rows.map((r) => r.id)).toEqual(['q8', 'old']);
    const lines = renderTerminal(t).split('\n');
    expect(lines[0]).toMatch(/^download sizes \(KB; gzip: each file at level 9.*9000 bytes min\+gzip\)$/);
    expect(lines[2]).toMatch(
      /^sweep\s+trial\s+tfjs float32\s+tfjs-uint8\s+gzip float32\s+gzip uint8\s+\.sqz\s+\.sqz \+ decoder$/,
    );
    expect(lines[4]).toMatch(/^bits\s+quantize-weights\(bits=8\)\s+100\.0\s+26\.0\s+92\.0\s+20\.0\s+10\.0\s+18\.8$/);
    expect(lines[5]).toMatch(/^bits\s+quantize-weights\(bits=4\)\s+—\s+—\s+—\s+—\s+6\.0\s+14\.8$/);
    expect(renderCsv(t).split('\r\n')[1]).toBe('bits,quantize-weights(bits=8),102400,26624,94208,20480,10240,19240');
    expect(renderTerminal(downloadTable(runs, undefined)!)).toMatch(/bundle size unknown[\s\S]*10\.0\s+—\n/);
    expect(downloadTable([runs[0]!], 9_000)).toBeUndefined();
  });

  it('the HTML report has the table under the runs', () => {
    const html = renderHtml('e', runs, { decoderBytes: 9_000 });
    const section = html.slice(html.indexOf('<h2>Download sizes</h2>'));
    expect(section).toMatch(/<th class="num" title="tfjs_bytes">tfjs float32<\/th>/);
    expect(section).toMatch(/<td class="num">18\.8<\/td>/);
    expect(section).toMatch(/<td class="num">—<\/td>/);
    expect(html.indexOf('<h2>Download sizes</h2>')).toBeGreaterThan(html.indexOf('<h2>Runs</h2>'));
    expect(renderHtml('e', [runs[0]!])).not.toContain('Download sizes');
  });
});
