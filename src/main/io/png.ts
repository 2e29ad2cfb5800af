// SVG -> PNG without a browser, through resvg (a Rust renderer shipped as a prebuilt npm binary).
import { Resvg } from '@resvg/resvg-js';

export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: '#ffffff',
  });
  return resvg.render().asPng();
}
