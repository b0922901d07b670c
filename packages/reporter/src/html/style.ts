/** The page's only stylesheet, inlined: the file stands alone. */
export const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif; color: #1d1d1f; margin: 24px auto; max-width: 1280px; padding: 0 16px; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px; }
.summary { color: #555; margin: 0 0 12px; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); gap: 16px; }
figure.card { margin: 0; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; overflow-x: auto; }
figure.card.empty { padding: 12px 16px; color: #666; }
figure.card.empty h3 { font-size: 14px; margin: 0 0 4px; color: #333; }
svg.plot { display: block; max-width: 100%; height: auto; font-family: system-ui, "DejaVu Sans", sans-serif; }
svg.plot text { font-size: 11px; fill: #333; }
svg.plot text.title { font-size: 14px; font-weight: 600; fill: #111; }
svg.plot text.subtitle { font-size: 11px; fill: #666; }
svg.plot text.label { font-size: 12px; fill: #222; }
svg.plot .grid { stroke: #e8e8e8; } svg.plot .axis, svg.plot .tickmark { stroke: #444; }
svg.plot .series { fill: none; stroke-width: 2; stroke-linejoin: round; }
svg.plot .err { stroke-width: 1.2; }
svg.plot .ref { stroke: #555; stroke-dasharray: 5 3; }
svg.plot circle.mark { stroke: #fff; stroke-width: 0.6; }
svg.plot circle.ring { fill: none; stroke-width: 1.6; }
table.runs, table.downloads { border-collapse: collapse; background: #fff; font-size: 13px; font-variant-numeric: tabular-nums; }
table.runs caption, table.downloads caption { text-align: left; color: #555; padding-bottom: 6px; }
table.runs th, table.downloads th, table.runs td, table.downloads td { border-bottom: 1px solid #e5e5e5; padding: 4px 8px; text-align: left; vertical-align: top; }
table.runs th, table.downloads th { background: #f0f0f0; position: sticky; top: 0; }
table.runs .num, table.downloads .num { text-align: right; white-space: nowrap; }
table.runs tr.front td, table.downloads tr.front td { background: #fff8e1; }
table.runs tr.failed td, table.downloads tr.failed td { color: #b00020; }
table.runs tr.baseline td, table.downloads tr.baseline td { font-weight: 600; }
.tag { display: inline-block; background: #eef; border-radius: 3px; padding: 0 4px; margin-left: 4px; font-size: 11px; color: #335; }
.note { color: #666; font-size: 13px; }
pre.error { white-space: pre-wrap; background: #fff3f3; border: 1px solid #f3c0c0; padding: 6px 8px; margin: 4px 0 10px; font-size: 12px; }
`;
